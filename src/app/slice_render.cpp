#include "slice_render.hpp"

#include <algorithm>
#include <cmath>

namespace cls::app {
namespace {

std::uint8_t channel(Rgba c, int shift) { return static_cast<std::uint8_t>(c >> shift); }

// Source-over compositing of an opaque colour with opacity `alpha` onto an opaque pixel.
Rgba blend(Rgba under, Rgba colour, float alpha) {
    const auto mix = [&](int shift) {
        const float value = static_cast<float>(channel(under, shift)) * (1.0f - alpha) +
                            static_cast<float>(channel(colour, shift)) * alpha;
        return static_cast<std::uint8_t>(std::lround(value));
    };
    return rgba(mix(0), mix(8), mix(16));
}

// A "hot" colour map: black, red, yellow, white.
Rgba heat(float p) {
    const auto ramp = [](float x) {
        return static_cast<std::uint8_t>(std::clamp(x, 0.0f, 1.0f) * 255.0f);
    };
    return rgba(ramp(p * 3.0f), ramp(p * 3.0f - 1.0f), ramp(p * 3.0f - 2.0f));
}

Rgba grey(double value, const Window& w) {
    const double lo = w.center - w.width / 2.0;
    const double t = w.width > 0 ? (value - lo) / w.width : (value >= w.center ? 1.0 : 0.0);
    const auto g = static_cast<std::uint8_t>(std::lround(std::clamp(t, 0.0, 1.0) * 255.0));
    return rgba(g, g, g);
}

}  // namespace

void render_slice(const SliceLayers& layers, const SliceGeometry& geometry, std::int64_t slice,
                  const OverlaySettings& s, SliceImage& out) {
    out.width = geometry.width();
    out.height = geometry.height();
    out.pixels.assign(static_cast<std::size_t>(out.width) * static_cast<std::size_t>(out.height),
                      rgba(0, 0, 0));
    const Volume* base = layers.image ? layers.image : layers.probability;
    const float* image = base ? base->data() : nullptr;
    const float* p = layers.probability ? layers.probability->data() : nullptr;
    const float* label = layers.label ? layers.label->data() : nullptr;
    const Window window{s.window_center, s.window_width};
    const auto is_label = [&](int column, int row) {
        return column >= 0 && row >= 0 && column < out.width && row < out.height &&
               label[geometry.linear_index(column, row, slice)] != 0.0f;
    };

    for (int row = 0; row < out.height; ++row) {
        for (int column = 0; column < out.width; ++column) {
            const std::int64_t i = geometry.linear_index(column, row, slice);
            Rgba pixel = image ? grey(image[i], window) : rgba(0, 0, 0);
            if (p) {
                const float q = p[i];
                if (s.heat_map) pixel = blend(pixel, heat(q), s.heat_opacity * q);
                const bool in_fixed = q >= s.fixed_threshold;
                const bool in_tau = q >= s.tau;
                if (s.fixed_mask && in_fixed) pixel = blend(pixel, kFixedColour, s.fixed_opacity);
                if (s.tau_mask && in_tau) pixel = blend(pixel, kTauColour, s.tau_opacity);
                if (s.difference && in_tau != in_fixed) {
                    pixel =
                        blend(pixel, in_tau ? kAddedColour : kDroppedColour, s.difference_opacity);
                }
            }
            // A contour pixel is a label pixel with a 4-neighbour outside the label.
            if (label && s.label_contour && is_label(column, row) &&
                (!is_label(column - 1, row) || !is_label(column + 1, row) ||
                 !is_label(column, row - 1) || !is_label(column, row + 1))) {
                pixel = blend(pixel, kLabelColour, s.label_opacity);
            }
            out.pixels[static_cast<std::size_t>(row) * static_cast<std::size_t>(out.width) +
                       static_cast<std::size_t>(column)] = pixel;
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
