// Resampling to a model's spacing and back (cls/inference/resampling.hpp): which grid a network
// sees, fields linear interpolation must keep exactly, a smooth field's round trip within a
// stated tolerance, the thick axis of an anisotropic scan by nearest neighbour, and the sliding
// window running on the model grid while answering on the image's.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <numbers>

#include "cls/inference/resampling.hpp"
#include "cls/inference/sliding_window.hpp"

namespace cls::inference {
namespace {

std::size_t index(const Dims& d, std::int64_t x, std::int64_t y, std::int64_t z) {
    return static_cast<std::size_t>(x + d[0] * (y + d[1] * z));
}

template <class Field>
std::vector<float> sampled(const Dims& d, Field f) {
    std::vector<float> v(static_cast<std::size_t>(d[0] * d[1] * d[2]));
    for (std::int64_t z = 0; z < d[2]; ++z)
        for (std::int64_t y = 0; y < d[1]; ++y)
            for (std::int64_t x = 0; x < d[0]; ++x)
                v[index(d, x, y, z)] = static_cast<float>(f(double(x), double(y), double(z)));
    return v;
}

TEST(Resampling, TheModelGridSpansTheSameFieldOfView) {
    const ModelGrid same = model_grid({40, 36, 30}, {1.0005, 1.0, 0.9995}, {1.0, 1.0, 1.0});
    EXPECT_FALSE(same.resamples());
    EXPECT_EQ(same.model, (Dims{40, 36, 30}));

    // 40 x 0.8 = 32 mm, 36 x 0.8 = 28.8 mm, 30 x 1.2 = 36 mm at 1 mm.
    const ModelGrid finer = model_grid({40, 36, 30}, {0.8, 0.8, 1.2}, {1.0, 1.0, 1.0});
    EXPECT_TRUE(finer.resamples());
    EXPECT_EQ(finer.model, (Dims{32, 29, 36}));
    EXPECT_EQ(finer.nearest, (std::array<bool, 3>{false, false, false}));

    // A clinical scan of 5 mm slices: its thick axis is kept apart, whichever grid has it.
    EXPECT_EQ(model_grid({64, 64, 20}, {1.0, 1.0, 5.0}, {1.0, 1.0, 1.0}).nearest,
              (std::array<bool, 3>{false, false, true}));
    EXPECT_EQ(model_grid({64, 64, 100}, {1.0, 1.0, 1.0}, {0.7, 0.7, 3.0}).nearest,
              (std::array<bool, 3>{false, false, true}));
}

TEST(Resampling, KeepsConstantsAndLinearFieldsExactlyInside) {
    const Dims from{30, 20, 12}, to{45, 13, 12};
    const std::vector<float> constant =
        resample(sampled(from, [](double, double, double) { return 0.375; }), from, to, {});
    for (float v : constant) ASSERT_EQ(v, 0.375f);
    // f = 2x - 3y + z in source voxels; output voxel o of an axis lies at (o + 0.5) m / n - 0.5.
    auto f = [](double x, double y, double z) { return 2.0 * x - 3.0 * y + z; };
    const std::vector<float> linear = resample(sampled(from, f), from, to, {});
    for (std::int64_t z = 0; z < to[2]; ++z)
        for (std::int64_t y = 1; y < to[1] - 1; ++y)
            for (std::int64_t x = 1; x < to[0] - 1; ++x) {
                const double sx = (double(x) + 0.5) * 30.0 / 45.0 - 0.5;
                const double sy = (double(y) + 0.5) * 20.0 / 13.0 - 0.5;
                ASSERT_NEAR(linear[index(to, x, y, z)], f(sx, sy, double(z)), 1e-4)
                    << x << ", " << y << ", " << z;
            }
}

// A smooth field (wavelengths of 20 and 25 voxels), from 0.7 mm to 1 mm and back: linear
// interpolation errs by at most h^2 |f''| / 8 per axis and pass, with h the coarser grid's step
// in source voxels (1 / 0.7), so the round trip stays within twice the sum over axes. Edges,
// where the grid is clamped, are left out.
TEST(Resampling, ARoundTripKeepsASmoothFieldWithinLinearInterpolationsBound) {
    const Dims image{48, 40, 32};
    const ModelGrid grid = model_grid(image, {0.7, 0.7, 0.7}, {1.0, 1.0, 1.0});
    ASSERT_EQ(grid.model, (Dims{34, 28, 22}));
    auto f = [](double x, double y, double z) {
        return std::sin(2.0 * std::numbers::pi * x / 20.0) *
                   std::cos(2.0 * std::numbers::pi * y / 25.0) +
               z / 30.0;
    };
    const std::vector<float> source = sampled(image, f);
    const std::vector<float> back =
        resample(resample(source, grid.source, grid.model, grid.nearest), grid.model, grid.source,
                 grid.nearest);
    double worst = 0.0;
    for (std::int64_t z = 2; z < image[2] - 2; ++z)
        for (std::int64_t y = 2; y < image[1] - 2; ++y)
            for (std::int64_t x = 2; x < image[0] - 2; ++x)
                worst = std::max(worst, std::abs(double(back[index(image, x, y, z)]) -
                                                 double(source[index(image, x, y, z)])));
    const double h = 1.0 / 0.7;
    const double curvature = std::pow(2.0 * std::numbers::pi / 20.0, 2) +
                             std::pow(2.0 * std::numbers::pi / 25.0, 2);  // |f_xx| + |f_yy|
    const double bound = 2.0 * h * h / 8.0 * curvature;
    std::printf("0.7 mm -> 1 mm -> 0.7 mm: max |error| %.4f inside, bound %.4f\n", worst, bound);
    EXPECT_LT(worst, bound);
}

TEST(Resampling, TheThickAxisIsResampledByNearestNeighbour) {
    const ModelGrid grid = model_grid({6, 5, 4}, {1.0, 1.0, 5.0}, {1.0, 1.0, 1.0});
    ASSERT_EQ(grid.model, (Dims{6, 5, 20}));
    const std::vector<float> slices =
        sampled(grid.source, [](double x, double y, double z) { return x + 10 * y + 100 * z; });
    const std::vector<float> up = resample(slices, grid.source, grid.model, grid.nearest);
    // Each 5 mm slice becomes five 1 mm slices, unchanged: no value between two slices.
    for (std::int64_t z = 0; z < 20; ++z)
        for (std::int64_t y = 0; y < 5; ++y)
            for (std::int64_t x = 0; x < 6; ++x)
                ASSERT_EQ(up[index(grid.model, x, y, z)], float(x + 10 * y + 100 * (z / 5)));
    EXPECT_EQ(resample(up, grid.model, grid.source, grid.nearest), slices);
}

// An image at 0.5 mm and a model trained at 1 mm: the network sees the 16³ model grid, and
// the map comes back on the 32³ image grid, equal to the image resampled there and back (the
// identity network's answer, blended).
TEST(SlidingWindow, RunsAtTheModelsSpacingAndAnswersOnTheImagesGrid) {
    Affine half = Affine::Identity();
    half.diagonal() << 0.5, 0.5, 0.5, 1.0;
    Volume image({32, 32, 32}, half);
    image.values() = sampled(image.dims(), [](double x, double y, double z) {
        return 0.5 + 0.4 * std::sin(x / 5.0) * std::cos(y / 7.0) * std::cos(z / 9.0);
    });
    ModelManifest manifest;
    manifest.patch_size = {8, 8, 8};
    manifest.activation = Activation::none;
    manifest.normalisation.scheme = NormalisationScheme::none;
    manifest.spacing_mm = {1.0, 1.0, 1.0};
    auto job = SlidingWindowInference::start(image, manifest, {});
    ASSERT_TRUE(job.ok()) << job.error().message;
    EXPECT_EQ(job->plan().image, (Dims{16, 16, 16}));
    EXPECT_EQ(job->input_shape(), (std::array<std::int64_t, 5>{1, 1, 8, 8, 8}));
    while (!job->finished()) {
        const std::vector<float> input = job->next_input();
        ASSERT_TRUE(job->accept_output(input).ok());
    }
    const Volume map = job->probability();
    EXPECT_EQ(map.dims(), image.dims());
    EXPECT_EQ(map.spacing(), image.spacing());
    EXPECT_TRUE(map.affine().isApprox(image.affine()));
    const ModelGrid grid = model_grid(image.dims(), image.spacing(), manifest.spacing_mm);
    const std::vector<float> expected = resample(
        resample(image.values(), grid.source, grid.model, {}), grid.model, grid.source, {});
    for (std::size_t i = 0; i < expected.size(); ++i) ASSERT_NEAR(map.data()[i], expected[i], 1e-6);
}

// What the user and the memory check hear before a job starts: the grid it runs on, and its
// memory, which a finer model spacing multiplies.
TEST(SlidingWindow, SaysWhatTheModelsGridDoesAndCountsItsMemory) {
    Affine half = Affine::Identity();
    half.diagonal() << 0.5, 0.5, 0.5, 1.0;
    const Volume image({32, 32, 32}, half);
    ModelManifest manifest;
    manifest.patch_size = {8, 8, 8};
    manifest.spacing_mm = {0.5, 0.5, 0.5};
    EXPECT_EQ(describe_network_grid(image, manifest), "");
    const double own = window_memory_bytes(image, manifest);
    manifest.spacing_mm = {1.0, 1.0, 1.0};
    EXPECT_EQ(describe_network_grid(image, manifest),
              "resampled from 0.5 x 0.5 x 0.5 mm (32 x 32 x 32) to the model's 1 x 1 x 1 mm "
              "(16 x 16 x 16), and the map back");
    manifest.spacing_mm = {0.25, 0.25, 0.25};
    const double finer = window_memory_bytes(image, manifest);
    // 8 times the voxels on the model grid: its padded channel, blend and weights (3 floats a
    // voxel) and two copies, against the image's own 5 and 2 at the map's end.
    EXPECT_NEAR(finer - own, 4.0 * (5.0 * 64 * 64 * 64 - 5.0 * 32 * 32 * 32), 1.0);
    manifest.spacing_mm = {0.5, 0.5, 0.5};
    manifest.axis_order = AxisOrder::ras;
    Affine flipped = half;
    flipped(0, 0) = -0.5;
    EXPECT_EQ(describe_network_grid(Volume({32, 32, 32}, flipped), manifest), "reoriented to RAS+");
}

}  // namespace
}  // namespace cls::inference
