// Sliding-window planning and blending: every voxel covered, nnU-Net's step rule, centred
// padding, the Gaussian's shape, mirror flips that undo themselves, activations, and outputs
// the runner must refuse.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <tuple>

#include "cls/inference/sliding_window.hpp"

namespace {

using namespace cls::inference;
using cls::Dims;
using cls::Volume;

ModelManifest manifest(std::array<std::int64_t, 3> patch_dhw, Activation activation) {
    ModelManifest m;
    m.patch_size = patch_dhw;
    m.activation = activation;
    m.normalisation.scheme = NormalisationScheme::none;
    return m;
}

// Values in (0, 1) that differ at every voxel, so a misplaced voxel shows.
Volume ramp(const Dims& dims) {
    Volume v(dims, cls::Affine::Identity());
    for (std::size_t i = 0; i < v.voxel_count(); ++i)
        v.data()[i] = 0.05f + 0.9f * static_cast<float>(i) / static_cast<float>(v.voxel_count());
    return v;
}

Network identity() {
    return [](std::span<const float> input, const std::array<std::int64_t, 5>&) {
        return cls::Result<std::vector<float>>(std::vector<float>(input.begin(), input.end()));
    };
}

TEST(PlanWindows, FollowsNnUNetsStepRule) {
    auto plan = plan_windows({100, 48, 30}, {48, 48, 48}, 0.5);
    ASSERT_TRUE(plan.ok());
    // x: ceil((100 - 48) / 24) + 1 = 4 steps of 52 / 3 → 0, 17, 35, 52; y: one; z: padded.
    std::vector<std::int64_t> xs;
    for (const Dims& o : plan->origins)
        if (o[1] == 0 && o[2] == 0) xs.push_back(o[0]);
    EXPECT_EQ(xs, (std::vector<std::int64_t>{0, 17, 35, 52}));
    EXPECT_EQ(plan->origins.size(), 4u);
    EXPECT_EQ(plan->padded, (Dims{100, 48, 48}));
    EXPECT_EQ(plan->pad_before, (Dims{0, 0, 9}));
}

class CoversEveryVoxel : public ::testing::TestWithParam<std::tuple<Dims, Dims, double>> {};

TEST_P(CoversEveryVoxel, WithPatchesInsideThePaddedGrid) {
    const auto& [image, patch, overlap] = GetParam();
    auto plan = plan_windows(image, patch, overlap);
    ASSERT_TRUE(plan.ok());
    const Dims& p = plan->padded;
    std::vector<int> covered(static_cast<std::size_t>(p[0] * p[1] * p[2]), 0);
    for (const Dims& o : plan->origins) {
        for (int a = 0; a < 3; ++a) {
            ASSERT_GE(o[a], 0);
            ASSERT_LE(o[a] + patch[a], p[a]);
        }
        for (std::int64_t z = 0; z < patch[2]; ++z)
            for (std::int64_t y = 0; y < patch[1]; ++y)
                for (std::int64_t x = 0; x < patch[0]; ++x)
                    ++covered[static_cast<std::size_t>((o[0] + x) +
                                                       p[0] * ((o[1] + y) + p[1] * (o[2] + z)))];
    }
    for (int count : covered) ASSERT_GE(count, 1);
    for (int a = 0; a < 3; ++a) {
        EXPECT_GE(p[a], std::max(image[a], patch[a]));
        EXPECT_EQ(plan->pad_before[a], (p[a] - image[a]) / 2);
    }
}

INSTANTIATE_TEST_SUITE_P(Shapes, CoversEveryVoxel,
                         ::testing::Values(std::tuple{Dims{48, 48, 48}, Dims{48, 48, 48}, 0.5},
                                           std::tuple{Dims{7, 9, 5}, Dims{16, 16, 16}, 0.5},
                                           std::tuple{Dims{61, 40, 97}, Dims{16, 24, 32}, 0.5},
                                           std::tuple{Dims{61, 40, 97}, Dims{16, 24, 32}, 0.0},
                                           std::tuple{Dims{33, 33, 33}, Dims{8, 8, 8}, 0.9}));

TEST(PlanWindows, RefusesAnOverlapOutsideZeroToOne) {
    EXPECT_FALSE(plan_windows({8, 8, 8}, {4, 4, 4}, 1.0).ok());
    EXPECT_FALSE(plan_windows({8, 8, 8}, {4, 4, 4}, -0.1).ok());
}

TEST(GaussianImportance, PeaksAtOneInTheCentreWithSigmaAnEighthOfThePatch) {
    const Dims patch{33, 16, 8};
    const auto w = gaussian_importance(patch);
    ASSERT_EQ(w.size(), 33u * 16u * 8u);
    auto at = [&](std::int64_t x, std::int64_t y, std::int64_t z) {
        return w[static_cast<std::size_t>(x + 33 * (y + 16 * z))];
    };
    // Odd side: the peak is a voxel. Along x, one sigma (33 / 8) from the centre.
    EXPECT_FLOAT_EQ(*std::max_element(w.begin(), w.end()), at(16, 7, 3));
    const double one_sigma = std::exp(-0.5 * std::pow((16.0 - 12.0) / (33.0 / 8.0), 2));
    EXPECT_NEAR(at(12, 7, 3) / at(16, 7, 3), one_sigma, 1e-6);
    for (float v : w) EXPECT_GT(v, 0.0f);
    // Symmetric, so every mirrored run weighs its voxels alike.
    EXPECT_FLOAT_EQ(at(0, 0, 0), at(32, 15, 7));
    EXPECT_FLOAT_EQ(at(5, 2, 1), at(27, 13, 6));
}

TEST(SlidingWindow, AnIdentityNetworkGivesTheImageBackWithOrWithoutMirroring) {
    const Volume image = ramp({21, 13, 17});
    for (bool mirror : {false, true}) {
        auto out = run_sliding_window(image, manifest({8, 8, 8}, Activation::none),
                                      {.overlap = 0.5, .mirror = mirror}, identity());
        ASSERT_TRUE(out.ok()) << out.error().message;
        ASSERT_EQ(out->dims(), image.dims());
        for (std::size_t i = 0; i < image.voxel_count(); ++i)
            // Blending sums in float32: a few units in the last place.
            ASSERT_NEAR(out->data()[i], image.data()[i], 4e-6) << "voxel " << i;
    }
}

TEST(SlidingWindow, PadsSmallImagesAndCropsBack) {
    const Volume image = ramp({5, 6, 7});
    auto job = SlidingWindowInference::start(image, manifest({16, 16, 16}, Activation::none), {});
    ASSERT_TRUE(job.ok());
    EXPECT_EQ(job->run_count(), 1u);
    EXPECT_EQ(job->input_shape(), (std::array<std::int64_t, 5>{1, 1, 16, 16, 16}));
    const std::vector<float> input = job->next_input();
    // The image sits centred; the rest takes its darkest value.
    EXPECT_EQ(input[static_cast<std::size_t>(5 + 16 * (5 + 16 * 4))], image.at(0, 0, 0));
    EXPECT_EQ(input[0], *std::min_element(image.values().begin(), image.values().end()));
    ASSERT_TRUE(job->accept_output(input).ok());
    const Volume out = job->probability();
    EXPECT_EQ(out.dims(), image.dims());
    for (std::size_t i = 0; i < image.voxel_count(); ++i)
        ASSERT_NEAR(out.data()[i], image.data()[i], 4e-6) << "voxel " << i;
}

TEST(SlidingWindow, MirroredRunsSeeTheFlippedPatch) {
    const Volume image = ramp({8, 8, 8});
    auto job = SlidingWindowInference::start(image, manifest({8, 8, 8}, Activation::none),
                                             {.mirror = true});
    ASSERT_TRUE(job.ok());
    EXPECT_EQ(job->run_count(), 8u);
    const std::vector<float> plain = job->next_input();
    ASSERT_TRUE(job->accept_output(plain).ok());
    const std::vector<float> flipped_x = job->next_input();  // second run: x flipped
    for (int z = 0; z < 8; ++z)
        for (int y = 0; y < 8; ++y)
            for (int x = 0; x < 8; ++x)
                ASSERT_EQ(flipped_x[static_cast<std::size_t>(x + 8 * (y + 8 * z))],
                          plain[static_cast<std::size_t>((7 - x) + 8 * (y + 8 * z))]);
}

TEST(SlidingWindow, AppliesSigmoidAndSoftmaxPerVoxel) {
    const Volume image = ramp({12, 12, 12});
    auto logit = [](float p) { return static_cast<float>(std::log(p / (1.0 - p))); };
    auto sigmoid_net = [&](std::span<const float> in, const std::array<std::int64_t, 5>&) {
        std::vector<float> out;
        for (float p : in) out.push_back(logit(p));
        return cls::Result<std::vector<float>>(out);
    };
    auto sig = run_sliding_window(image, manifest({8, 8, 8}, Activation::sigmoid), {}, sigmoid_net);
    ASSERT_TRUE(sig.ok());

    // Two channels [0, logit]: softmax's class 1 is sigmoid(logit).
    ModelManifest softmax = manifest({8, 8, 8}, Activation::softmax);
    softmax.output_channels = 2;
    softmax.lesion_class = 1;
    auto softmax_net = [&](std::span<const float> in, const std::array<std::int64_t, 5>&) {
        std::vector<float> out(2 * in.size(), 0.0f);
        for (std::size_t i = 0; i < in.size(); ++i) out[in.size() + i] = logit(in[i]);
        return cls::Result<std::vector<float>>(out);
    };
    auto soft = run_sliding_window(image, softmax, {}, softmax_net);
    ASSERT_TRUE(soft.ok());
    for (std::size_t i = 0; i < image.voxel_count(); ++i) {
        ASSERT_NEAR(sig->data()[i], image.data()[i], 2e-6);
        ASSERT_NEAR(soft->data()[i], image.data()[i], 2e-6);
    }
}

TEST(SlidingWindow, RefusesOutputsOfTheWrongSizeOrWithNaN) {
    const Volume image = ramp({8, 8, 8});
    auto job = SlidingWindowInference::start(image, manifest({8, 8, 8}, Activation::sigmoid), {});
    ASSERT_TRUE(job.ok());
    std::vector<float> output(511, 0.0f);
    EXPECT_EQ(job->accept_output(output).error().message,
              "the model returned 511 values for a patch; the manifest's shape needs 512");
    output.assign(512, 0.0f);
    output[3] = std::numeric_limits<float>::quiet_NaN();
    EXPECT_EQ(job->accept_output(output).error().message,
              "the model returned 1 NaN or infinite values in patch 1");
    EXPECT_EQ(job->runs_done(), 0u);
}

TEST(SlidingWindow, RefusesImagesWithNonFiniteVoxels) {
    Volume image = ramp({8, 8, 8});
    image.at(1, 2, 3) = std::numeric_limits<float>::infinity();
    auto job = SlidingWindowInference::start(image, manifest({8, 8, 8}, Activation::sigmoid), {});
    ASSERT_FALSE(job.ok());
    EXPECT_NE(job.error().message.find("1 NaN or infinite voxels"), std::string::npos);
}

}  // namespace
