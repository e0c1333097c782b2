// A network's axis order (cls/inference/axis_order.hpp): the closest RAS+ axes read from an
// affine, the exact round trip of the rearrangement, and the promise that matters: a permuted,
// flipped copy of a volume (the same world geometry, stored another way) gets the same
// probabilities at every world point from a network trained in RAS+ order.
#include <gtest/gtest.h>

#include <cmath>

#include "cls/inference/axis_order.hpp"
#include "cls/inference/sliding_window.hpp"

namespace cls::inference {
namespace {

TEST(AxisOrder, FindsTheVoxelAxesClosestToRasFromTheAffine) {
    EXPECT_TRUE(closest_ras(Affine::Identity()).identity());
    Affine lps = Affine::Identity();
    lps.diagonal() << -0.9, -0.9, 3.0, 1.0;  // as DICOM-derived files often are
    const Reorientation from_lps = closest_ras(lps);
    EXPECT_EQ(from_lps.from, (std::array<int, 3>{0, 1, 2}));
    EXPECT_EQ(from_lps.reversed, (std::array<bool, 3>{true, true, false}));
    // i runs towards S, j towards -R, k towards A, slightly oblique.
    Affine turned = Affine::Zero();
    turned(2, 0) = 2.0;
    turned(0, 1) = -1.0;
    turned(1, 1) = 0.1;
    turned(1, 2) = 1.5;
    turned(3, 3) = 1.0;
    const Reorientation r = closest_ras(turned);
    EXPECT_EQ(r.from, (std::array<int, 3>{1, 2, 0}));
    EXPECT_EQ(r.reversed, (std::array<bool, 3>{true, false, false}));
    EXPECT_EQ(r.permuted(Dims{4, 5, 6}), (Dims{5, 6, 4}));
    EXPECT_TRUE(reorientation_for(AxisOrder::stored, turned).identity());
    EXPECT_EQ(parse_axis_order("ras").value(), AxisOrder::ras);
    EXPECT_EQ(parse_axis_order("lps").error().message,
              "unknown axis_order 'lps' (expected stored or ras)");
}

TEST(AxisOrder, TheRearrangementIsExactBothWays) {
    const Dims image{4, 3, 5};
    std::vector<float> values(60);
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i);
    const Reorientation r{.from = {2, 0, 1}, .reversed = {true, false, true}};
    const std::vector<float> network = to_network_order(values, image, r);
    // Network voxel (x, y, z) on dims (5, 4, 3) is image voxel (y, 2 - z, 4 - x).
    for (std::int64_t z = 0; z < 3; ++z)
        for (std::int64_t y = 0; y < 4; ++y)
            for (std::int64_t x = 0; x < 5; ++x)
                ASSERT_EQ(network[static_cast<std::size_t>(x + 5 * (y + 4 * z))],
                          values[static_cast<std::size_t>(y + 4 * ((2 - z) + 3 * (4 - x)))]);
    EXPECT_EQ(to_image_order(network, image, r), values);
}

// A network that is not symmetric: each voxel's answer depends on its neighbour along the
// tensor's W axis, so a flipped or permuted input changes it unless the core reorients.
Network directional() {
    return [](std::span<const float> input, const std::array<std::int64_t, 5>& shape) {
        const std::int64_t w = shape[4];
        std::vector<float> out(input.size());
        for (std::size_t i = 0; i < input.size(); ++i) {
            const bool last = static_cast<std::int64_t>(i % static_cast<std::size_t>(w)) == w - 1;
            out[i] = 2.0f * input[i] - (last ? 0.0f : input[i + 1]);
        }
        return cls::Result<std::vector<float>>(out);
    };
}

TEST(SlidingWindow, APermutedFlippedCopyGetsTheSameProbabilitiesInWorldSpace) {
    // The volume as stored, RAS+ with 1 x 1.5 x 2 mm voxels.
    const Dims dims{12, 10, 8};
    Affine ras = Affine::Identity();
    ras.diagonal() << 1.0, 1.5, 2.0, 1.0;
    Volume original(dims, ras);
    for (std::int64_t z = 0; z < dims[2]; ++z)
        for (std::int64_t y = 0; y < dims[1]; ++y)
            for (std::int64_t x = 0; x < dims[0]; ++x)
                original.at(x, y, z) =
                    static_cast<float>(std::sin(0.7 * x + 0.3 * y * y) + 0.2 * z);
    // The same voxels stored with i along S, j along -R, k along A: copy voxel (a, b, c) is
    // original voxel (11 - b, c, a); its affine maps it to the same world point.
    Affine copy_affine = Affine::Zero();
    copy_affine(2, 0) = 2.0;
    copy_affine(0, 1) = -1.0;
    copy_affine(0, 3) = 11.0;
    copy_affine(1, 2) = 1.5;
    copy_affine(3, 3) = 1.0;
    Volume copy({8, 12, 10}, copy_affine);
    for (std::int64_t c = 0; c < 10; ++c)
        for (std::int64_t b = 0; b < 12; ++b)
            for (std::int64_t a = 0; a < 8; ++a) copy.at(a, b, c) = original.at(11 - b, c, a);
    ASSERT_TRUE((copy_affine * Eigen::Vector4d(3, 4, 5, 1))
                    .isApprox(ras * Eigen::Vector4d(11 - 4, 5, 3, 1)));

    ModelManifest manifest;
    manifest.patch_size = {8, 8, 8};
    manifest.activation = Activation::sigmoid;
    manifest.normalisation.scheme = NormalisationScheme::zscore;
    manifest.spacing_mm = {1.0, 1.5, 2.0};  // R, A, S: no resampling
    auto differences = [&](AxisOrder order) {
        manifest.axis_order = order;
        auto a = run_sliding_window(original, manifest, {}, directional());
        auto b = run_sliding_window(copy, manifest, {}, directional());
        EXPECT_TRUE(a.ok() && b.ok());
        EXPECT_EQ(b->dims(), copy.dims());
        double worst = 0.0;
        for (std::int64_t c = 0; c < 10; ++c)
            for (std::int64_t bb = 0; bb < 12; ++bb)
                for (std::int64_t aa = 0; aa < 8; ++aa)
                    worst = std::max(
                        worst, std::abs(double(b->at(aa, bb, c)) - double(a->at(11 - bb, c, aa))));
        return worst;
    };
    EXPECT_LE(differences(AxisOrder::ras), 1e-5);
    // Without reorienting, the network reads the copy along another axis: the test has teeth.
    EXPECT_GT(differences(AxisOrder::stored), 1e-2);
}

}  // namespace
}  // namespace cls::inference
