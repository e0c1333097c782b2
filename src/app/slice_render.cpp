#include "slice_render.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace cls::app {
namespace {

// Source-over compositing of an opaque colour with opacity alpha / 256 onto an opaque pixel,
// red and blue in one multiply, green in another: this runs for every pixel of every view on
// every redraw.
Rgba blend(Rgba under, Rgba colour, std::uint32_t alpha) {
    const std::uint32_t keep = 256 - alpha;
    const std::uint32_t red_blue =
        (((under & 0xff00ffu) * keep + (colour & 0xff00ffu) * alpha) >> 8) & 0xff00ffu;
    const std::uint32_t green =
        (((under & 0x00ff00u) * keep + (colour & 0x00ff00u) * alpha) >> 8) & 0x00ff00u;
    return red_blue | green | 0xff000000u;
}

// Opacity in [0, 1] as blend()'s alpha in [0, 256].
std::uint32_t alpha_of(float opacity) {
    return static_cast<std::uint32_t>(std::clamp(opacity, 0.0f, 1.0f) * 256.0f + 0.5f);
}

// A "hot" colour map: black, red, yellow, white; 256 entries indexed by p * 255.
const std::array<Rgba, 256>& heat_table() {
    static const std::array<Rgba, 256> table = [] {
        std::array<Rgba, 256> t{};
        const auto ramp = [](float x) {
            return static_cast<std::uint8_t>(std::clamp(x, 0.0f, 1.0f) * 255.0f + 0.5f);
        };
        for (std::size_t i = 0; i < t.size(); ++i) {
            const float p = static_cast<float>(i) / 255.0f;
            t[i] = rgba(ramp(p * 3.0f), ramp(p * 3.0f - 1.0f), ramp(p * 3.0f - 2.0f));
        }
        return t;
    }();
    return table;
}

// Intensity to grey under a window: one multiply-add per pixel.
struct GreyMap {
    explicit GreyMap(const Window& w)
        : scale(w.width > 0 ? 255.0 / w.width : 0.0),
          offset(-(w.center - w.width / 2.0) * scale),
          step_at(w.center) {}
    Rgba operator()(float value) const {
        const double g = scale > 0 ? value * scale + offset : (value >= step_at ? 255.0 : 0.0);
        const auto grey = static_cast<std::uint8_t>(std::clamp(g, 0.0, 255.0) + 0.5);
        return rgba(grey, grey, grey);
    }
    double scale, offset, step_at;
};

}  // namespace

void render_slice(const SliceLayers& layers, const SliceGeometry& geometry, std::int64_t slice,
                  const OverlaySettings& s, SliceImage& out) {
    const int width = geometry.width(), height = geometry.height();
    out.width = width;
    out.height = height;
    out.pixels.resize(static_cast<std::size_t>(width) * static_cast<std::size_t>(height));
    const Volume* base = layers.image ? layers.image : layers.probability;
    const float* image = base ? base->data() : nullptr;
    const float* p = layers.probability ? layers.probability->data() : nullptr;
    const float* label = layers.label ? layers.label->data() : nullptr;
    const float* region = layers.region ? layers.region->data() : nullptr;
    const GreyMap grey(Window{s.window_center, s.window_width});
    const auto& heat = heat_table();
    // The heat map's opacity grows with p: one alpha per table entry.
    std::array<std::uint32_t, 256> heat_alpha{};
    for (std::size_t k = 0; k < heat_alpha.size(); ++k) {
        heat_alpha[k] = alpha_of(s.heat_opacity * static_cast<float>(k) / 255.0f);
    }
    const std::uint32_t fixed_alpha = alpha_of(s.fixed_opacity),
                        tau_alpha = alpha_of(s.tau_opacity);
    const std::uint32_t difference_alpha = alpha_of(s.difference_opacity);
    const std::uint32_t label_alpha = alpha_of(s.label_opacity);
    // The voxel index is affine in (column, row): walk it with two strides.
    const std::int64_t origin = geometry.linear_index(0, 0, slice);
    const std::int64_t column_step = width > 1 ? geometry.linear_index(1, 0, slice) - origin : 0;
    const std::int64_t row_step = height > 1 ? geometry.linear_index(0, 1, slice) - origin : 0;
    const auto in_label = [&](std::int64_t i) { return label[i] != 0.0f; };

    for (int row = 0; row < height; ++row) {
        Rgba* out_row =
            out.pixels.data() + static_cast<std::size_t>(row) * static_cast<std::size_t>(width);
        std::int64_t i = origin + row * row_step;
        for (int column = 0; column < width; ++column, i += column_step) {
            Rgba pixel = image ? grey(image[i]) : rgba(0, 0, 0);
            if (p) {
                const float q = region == nullptr || inside_region(region[i]) ? p[i] : 0.0f;
                if (s.heat_map) {
                    // The case store admits only [0, 1]; clamping keeps a stray value in the table.
                    const auto index =
                        static_cast<std::size_t>(std::clamp(q, 0.0f, 1.0f) * 255.0f + 0.5f);
                    pixel = blend(pixel, heat[index], heat_alpha[index]);
                }
                const bool in_fixed = q >= s.fixed_threshold;
                const bool in_tau = q >= s.tau;
                if (s.fixed_mask && in_fixed) pixel = blend(pixel, kFixedColour, fixed_alpha);
                if (s.tau_mask && in_tau) pixel = blend(pixel, kTauColour, tau_alpha);
                if (s.difference && in_tau != in_fixed) {
                    pixel = blend(pixel, in_tau ? kAddedColour : kDroppedColour, difference_alpha);
                }
            }
            // A contour pixel is a label pixel with a 4-neighbour outside the label (or the slice).
            if (label && s.label_contour && in_label(i) &&
                (column == 0 || !in_label(i - column_step) || column == width - 1 ||
                 !in_label(i + column_step) || row == 0 || !in_label(i - row_step) ||
                 row == height - 1 || !in_label(i + row_step))) {
                pixel = blend(pixel, kLabelColour, label_alpha);
            }
            out_row[column] = pixel;
        }
    }
}

Window percentile_window(const Volume& image, double low, double high) {
    if (image.voxel_count() == 0) return {0.5, 1.0};
    // A strided sample keeps this cheap on large volumes; percentiles hardly move.
    const std::size_t step = std::max<std::size_t>(1, image.voxel_count() / 200000);
    std::vector<float> sample;
    for (std::size_t i = 0; i < image.voxel_count(); i += step) sample.push_back(image.data()[i]);
    const auto at = [&](double q) {
        const auto k = static_cast<std::ptrdiff_t>(q * static_cast<double>(sample.size() - 1));
        std::nth_element(sample.begin(), sample.begin() + k, sample.end());
        return static_cast<double>(sample[static_cast<std::size_t>(k)]);
    };
    const double lo = at(low), hi = at(high);
    return {(lo + hi) / 2.0, std::max(hi - lo, 1e-6)};
}

Window full_range_window(const Volume& image) {
    if (image.voxel_count() == 0) return {0.5, 1.0};
    const auto [lo, hi] = std::minmax_element(image.values().begin(), image.values().end());
    return {(static_cast<double>(*lo) + *hi) / 2.0, std::max(static_cast<double>(*hi) - *lo, 1e-6)};
}

}  // namespace cls::app
