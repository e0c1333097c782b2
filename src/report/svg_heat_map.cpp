// Heat maps over two categorical axes, coloured with viridis, with a colour bar.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "cls/report/svg_plot.hpp"
#include "svg_writer.hpp"

namespace cls::report {
namespace {

using detail::Anchor;
using detail::number;

struct Rgb {
    double r, g, b;
};

// viridis at 0, 1/8, ..., 1 (matplotlib's), interpolated linearly in between.
Rgb viridis(double t) {
    static constexpr std::array<Rgb, 9> kStops = {{{68, 1, 84},
                                                   {71, 44, 122},
                                                   {59, 81, 139},
                                                   {44, 113, 142},
                                                   {33, 144, 141},
                                                   {39, 173, 129},
                                                   {92, 200, 99},
                                                   {170, 220, 50},
                                                   {253, 231, 37}}};
    const double position = std::clamp(t, 0.0, 1.0) * 8.0;
    const auto i = std::min<std::size_t>(7, static_cast<std::size_t>(position));
    const double f = position - static_cast<double>(i);
    const Rgb& a = kStops[i];
    const Rgb& b = kStops[i + 1];
    return {a.r + f * (b.r - a.r), a.g + f * (b.g - a.g), a.b + f * (b.b - a.b)};
}

std::string hex(const Rgb& c) {
    char text[8];
    std::snprintf(text, sizeof text, "#%02x%02x%02x", static_cast<int>(std::lround(c.r)),
                  static_cast<int>(std::lround(c.g)), static_cast<int>(std::lround(c.b)));
    return text;
}

// Dark text on the light end of viridis, white on the dark end.
std::string_view ink_on(const Rgb& c) {
    return 0.299 * c.r + 0.587 * c.g + 0.114 * c.b > 140 ? "#111111" : "#ffffff";
}

}  // namespace

std::string render_svg(const HeatMap& map) {
    detail::SvgWriter svg(map.width, map.height);
    constexpr double kLeft = 78, kTop = 58, kBottom = 56, kBar = 110;
    const double w = map.width - kLeft - kBar, h = map.height - kTop - kBottom;
    const std::size_t columns = std::max<std::size_t>(1, map.columns.size());
    const std::size_t rows = std::max<std::size_t>(1, map.rows.size());
    const double cell_w = w / static_cast<double>(columns);
    const double cell_h = h / static_cast<double>(rows);

    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (double v : map.values) {
        if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    }
    if (!(lo <= hi)) lo = 0.0, hi = 1.0;
    if (hi - lo < 1e-12) hi = lo + 1.0;
    const auto scaled = [&](double v) { return (v - lo) / (hi - lo); };

    svg.text(kLeft, 22, map.title, Anchor::start, " font-size=\"15\" font-weight=\"bold\"");
    if (!map.subtitle.empty()) {
        svg.text(kLeft, 40, map.subtitle, Anchor::start, " font-size=\"11\" fill=\"#666666\"");
    }
    for (std::size_t r = 0; r < map.rows.size(); ++r) {
        const double y = kTop + h - cell_h * static_cast<double>(r + 1);
        svg.text(kLeft - 8, y + cell_h / 2 + 4, map.rows[r], Anchor::end);
        for (std::size_t c = 0; c < map.columns.size(); ++c) {
            const double x = kLeft + cell_w * static_cast<double>(c);
            const std::size_t index = r * map.columns.size() + c;
            const double v = index < map.values.size() ? map.values[index]
                                                       : std::numeric_limits<double>::quiet_NaN();
            if (!std::isfinite(v)) {
                svg.rect(x, y, cell_w, cell_h, "#eeeeee", "#ffffff");
                svg.text(x + cell_w / 2, y + cell_h / 2 + 4, "n/a", Anchor::middle,
                         " fill=\"#999999\" font-size=\"10\"");
                continue;
            }
            const Rgb colour = viridis(scaled(v));
            svg.rect(x, y, cell_w, cell_h, hex(colour), "#ffffff");
            if (cell_w >= 34 && cell_h >= 16) {
                svg.text(x + cell_w / 2, y + cell_h / 2 + 4, number(v, map.decimals),
                         Anchor::middle,
                         " font-size=\"10\" fill=\"" + std::string(ink_on(colour)) + "\"");
            }
        }
    }
    for (std::size_t c = 0; c < map.columns.size(); ++c) {
        svg.text(kLeft + cell_w * (static_cast<double>(c) + 0.5), kTop + h + 18, map.columns[c],
                 Anchor::middle);
    }
    svg.text(kLeft + w / 2, map.height - 14, map.x_label, Anchor::middle);
    svg.text(18, kTop + h / 2, map.y_label, Anchor::middle,
             " transform=\"rotate(-90 18 " + number(kTop + h / 2) + ")\"");

    // Colour bar: a stack of thin bands, with ticks at nice values.
    const double bar_x = kLeft + w + 24, bar_w = 16;
    constexpr int kBands = 64;
    for (int i = 0; i < kBands; ++i) {
        const double t0 = static_cast<double>(i) / kBands;
        svg.rect(bar_x, kTop + h * (1.0 - t0 - 1.0 / kBands), bar_w, h / kBands + 0.5,
                 hex(viridis(t0 + 0.5 / kBands)), "none");
    }
    svg.rect(bar_x, kTop, bar_w, h, "none", "#333333");
    const std::vector<double> ticks = nice_ticks(lo, hi, 5);
    const int decimals = ticks.size() > 1 ? detail::decimals_for_step(ticks[1] - ticks[0]) : 2;
    for (double t : ticks) {
        const double y = kTop + h * (1.0 - scaled(t));
        svg.line(bar_x + bar_w, y, bar_x + bar_w + 4, y, "#333333");
        svg.text(bar_x + bar_w + 7, y + 4, number(t, decimals));
    }
    svg.text(bar_x + bar_w / 2, kTop - 8, map.value_label, Anchor::middle, " font-size=\"11\"");
    return std::move(svg).finish();
}

}  // namespace cls::report
