// Line and scatter charts.
#include "cls/report/svg_plot.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "svg_writer.hpp"

namespace cls::report {
namespace {

using detail::Anchor;
using detail::number;

constexpr double kLeft = 72, kRight = 24, kTop = 58, kBottom = 56;
constexpr std::string_view kGrid = "#e6e6e6";
constexpr std::string_view kInk = "#333333";

double nice_step(double range, int target) {
    const double raw = range / std::max(1, target);
    const double power = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 5.0}) {
        if (m * power >= raw * (1 - 1e-9)) return m * power;
    }
    return 10.0 * power;
}

struct Range {
    double lo, hi;
};

// The axis range: what the chart asks for, else the finite data widened to whole ticks.
Range axis_range(const Axis& axis, const std::vector<const std::vector<double>*>& data) {
    double lo = std::numeric_limits<double>::infinity();
    double hi = -lo;
    for (const auto* values : data) {
        for (double v : *values) {
            if (std::isfinite(v)) {
                lo = std::min(lo, v);
                hi = std::max(hi, v);
            }
        }
    }
    if (!(lo <= hi)) lo = 0.0, hi = 1.0;
    if (hi - lo < 1e-12) lo -= 0.5, hi += 0.5;
    if (!axis.min || !axis.max) {
        const double step = nice_step(hi - lo, 6);
        lo = std::floor(lo / step + 1e-9) * step;
        hi = std::ceil(hi / step - 1e-9) * step;
    }
    return {axis.min.value_or(lo), axis.max.value_or(hi)};
}

}  // namespace

std::string_view palette_colour(std::size_t index) {
    static constexpr std::array<std::string_view, 7> kOkabeIto = {
        "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442"};
    return kOkabeIto[index % kOkabeIto.size()];
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
    if (!(hi > lo)) return {lo};
    const double step = nice_step(hi - lo, target);
    std::vector<double> ticks;
    for (double k = std::ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k += 1.0) {
        ticks.push_back(k * step == 0.0 ? 0.0 : k * step);
    }
    return ticks;
}

std::string render_svg(const Chart& chart) {
    detail::SvgWriter svg(chart.width, chart.height);
    const double left = kLeft, top = kTop;
    const double w = chart.width - kLeft - kRight, h = chart.height - kTop - kBottom;

    std::vector<const std::vector<double>*> xs, ys;
    for (const Series& s : chart.series) {
        xs.push_back(&s.x);
        ys.push_back(&s.y);
    }
    const Range xr = axis_range(chart.x, xs), yr = axis_range(chart.y, ys);
    const auto px = [&](double x) { return left + (x - xr.lo) / (xr.hi - xr.lo) * w; };
    const auto py = [&](double y) { return top + h - (y - yr.lo) / (yr.hi - yr.lo) * h; };

    svg.text(left, 22, chart.title, Anchor::start, " font-size=\"15\" font-weight=\"bold\"");
    if (!chart.subtitle.empty()) {
        svg.text(left, 40, chart.subtitle, Anchor::start, " font-size=\"11\" fill=\"#666666\"");
    }

    // Grid and tick labels.
    const std::vector<double> x_ticks = nice_ticks(xr.lo, xr.hi, 6);
    const std::vector<double> y_ticks = nice_ticks(yr.lo, yr.hi, 6);
    const int x_decimals =
        x_ticks.size() > 1 ? detail::decimals_for_step(x_ticks[1] - x_ticks[0]) : 2;
    const int y_decimals =
        y_ticks.size() > 1 ? detail::decimals_for_step(y_ticks[1] - y_ticks[0]) : 2;
    for (double t : x_ticks) {
        svg.line(px(t), top, px(t), top + h, kGrid);
        svg.line(px(t), top + h, px(t), top + h + 5, kInk);
        svg.text(px(t), top + h + 19, number(t, x_decimals), Anchor::middle);
    }
    for (double t : y_ticks) {
        svg.line(left, py(t), left + w, py(t), kGrid);
        svg.line(left - 5, py(t), left, py(t), kInk);
        svg.text(left - 8, py(t) + 4, number(t, y_decimals), Anchor::end);
    }
    svg.rect(left, top, w, h, "none", std::string(kInk));
    svg.text(left + w / 2, chart.height - 14, chart.x.label, Anchor::middle);
    svg.text(18, top + h / 2, chart.y.label, Anchor::middle,
             " transform=\"rotate(-90 18 " + number(top + h / 2) + ")\"");

    // Series, clipped to the plot area.
    svg.raw("<clipPath id=\"plot-area\"><rect x=\"" + number(left) + "\" y=\"" + number(top) +
            "\" width=\"" + number(w) + "\" height=\"" + number(h) + "\"/></clipPath>\n");
    svg.raw("<g clip-path=\"url(#plot-area)\">\n");
    std::vector<std::string> colours;
    for (std::size_t i = 0; i < chart.series.size(); ++i) {
        const Series& s = chart.series[i];
        colours.push_back(s.colour.empty() ? std::string(palette_colour(i)) : s.colour);
        std::vector<std::pair<double, double>> run;
        const auto flush = [&] {
            if (s.mark != Mark::points) svg.polyline(run, colours[i], s.dashed);
            run.clear();
        };
        for (std::size_t j = 0; j < std::min(s.x.size(), s.y.size()); ++j) {
            if (!std::isfinite(s.x[j]) || !std::isfinite(s.y[j])) {
                flush();
                continue;
            }
            run.emplace_back(px(s.x[j]), py(s.y[j]));
            if (s.mark != Mark::line) {
                svg.circle(px(s.x[j]), py(s.y[j]), s.mark == Mark::points ? 3.0 : 3.5, colours[i],
                           s.point_opacity);
            }
        }
        flush();
    }
    svg.raw("</g>\n");

    // Legend in a corner of the plot area.
    std::vector<std::size_t> entries;
    std::size_t longest = 0;
    for (std::size_t i = 0; i < chart.series.size(); ++i) {
        if (chart.series[i].label.empty()) continue;
        entries.push_back(i);
        longest = std::max(longest, chart.series[i].label.size());
    }
    if (!entries.empty()) {
        const double box_w = 44 + 6.6 * static_cast<double>(longest);
        const double box_h = 10 + 18 * static_cast<double>(entries.size());
        const bool right =
            chart.legend == LegendPlace::top_right || chart.legend == LegendPlace::bottom_right;
        const bool bottom =
            chart.legend == LegendPlace::bottom_left || chart.legend == LegendPlace::bottom_right;
        const double bx = right ? left + w - box_w - 10 : left + 10;
        const double by = bottom ? top + h - box_h - 10 : top + 10;
        svg.rect(bx, by, box_w, box_h, "#ffffff", "#cccccc", " fill-opacity=\"0.9\"");
        for (std::size_t e = 0; e < entries.size(); ++e) {
            const Series& s = chart.series[entries[e]];
            const double y = by + 14 + 18 * static_cast<double>(e);
            if (s.mark != Mark::points) {
                svg.line(bx + 8, y, bx + 32, y, colours[entries[e]], 2.0, s.dashed);
            }
            if (s.mark != Mark::line) svg.circle(bx + 20, y, 3.5, colours[entries[e]], 1.0);
            svg.text(bx + 38, y + 4, s.label);
        }
    }
    return std::move(svg).finish();
}

}  // namespace cls::report
