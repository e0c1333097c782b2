#include <gtest/gtest.h>

#include "cls/calibration.hpp"
#include "slice_render.hpp"

namespace cls::app {
namespace {

Volume line(std::initializer_list<float> values) {
    Volume v({static_cast<std::int64_t>(values.size()), 1, 1}, Affine::Identity());
    std::copy(values.begin(), values.end(), v.data());
    return v;
}

Rgba pixel(const SliceImage& image, int column) {
    return image.pixels[static_cast<std::size_t>(column)];
}

TEST(SliceRender, WindowMapsIntensityToGrey) {
    const Volume image = line({0, 25, 100, 200});
    const SliceGeometry g(image, View::axial, /*radiological=*/false);
    OverlaySettings s;
    s.window_center = 50;
    s.window_width = 100;
    SliceImage out;
    render_slice({&image, nullptr, nullptr}, g, 0, s, out);
    ASSERT_EQ(out.width, 4);
    EXPECT_EQ(pixel(out, 0), rgba(0, 0, 0));
    EXPECT_EQ(pixel(out, 1), rgba(64, 64, 64));  // 25 of 100 is 63.75 of 255
    EXPECT_EQ(pixel(out, 2), rgba(255, 255, 255));
    EXPECT_EQ(pixel(out, 3), rgba(255, 255, 255));
}

TEST(SliceRender, MasksAndTheirDifference) {
    const Volume p = line({0.1f, 0.3f, 0.6f});
    const SliceGeometry g(p, View::axial, false);
    OverlaySettings s;
    s.heat_map = false;
    s.label_contour = false;
    s.tau = 0.2;  // calibrated mask {0.3, 0.6}; fixed mask {0.6}
    s.tau_opacity = 1.0f;
    s.difference_opacity = 1.0f;
    SliceImage out;
    render_slice({nullptr, &p, nullptr}, g, 0, s, out);
    EXPECT_EQ(pixel(out, 1), kAddedColour);  // the guarantee adds it
    EXPECT_EQ(pixel(out, 2), kTauColour);    // in both masks
    s.tau = 0.7;                             // now the calibrated mask is stricter than 0.5
    render_slice({nullptr, &p, nullptr}, g, 0, s, out);
    EXPECT_EQ(pixel(out, 2), kDroppedColour);
    s.tau = kInfinity;  // "predict nothing"
    s.difference = false;
    render_slice({nullptr, &p, nullptr}, g, 0, s, out);
    EXPECT_NE(pixel(out, 2), kTauColour);
}

TEST(SliceRender, LabelContourMarksTheBorderOnly) {
    Volume label({5, 5, 1}, Affine::Identity());
    for (std::int64_t y = 1; y <= 3; ++y)
        for (std::int64_t x = 1; x <= 3; ++x) label.at(x, y, 0) = 1.0f;
    const SliceGeometry g(label, View::axial, false);
    OverlaySettings s;
    SliceImage out;
    render_slice({nullptr, nullptr, &label}, g, 0, s, out);
    const auto at = [&](int x, int y) { return out.pixels[static_cast<std::size_t>(y * 5 + x)]; };
    EXPECT_EQ(at(1, 1), kLabelColour);
    EXPECT_EQ(at(2, 2), rgba(0, 0, 0));  // interior
    EXPECT_EQ(at(0, 0), rgba(0, 0, 0));  // outside
}

TEST(SliceRender, PercentileWindowIgnoresOutliers) {
    Volume v({100, 1, 1}, Affine::Identity());
    for (int i = 0; i < 100; ++i) v.data()[i] = static_cast<float>(i);
    v.data()[99] = 1e6f;
    const Window w = percentile_window(v);
    EXPECT_LT(w.center + w.width / 2, 1000.0);
    EXPECT_GT(full_range_window(v).width, 1e5);
}

}  // namespace
}  // namespace cls::app
