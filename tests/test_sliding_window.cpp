// Sliding-window planning and blending: every voxel covered, nnU-Net's step rule, centred
// padding, the Gaussian's shape, mirror flips that undo themselves, activations, and outputs
// the runner must refuse.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
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
    softmax.lesion_classes = {1};
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

// A 4-class softmax with classes 1 and 3 as lesion, and one of 3 sigmoid channels: the maps
// equal the formulas computed here per voxel, in double.
TEST(SlidingWindow, SumsSoftmaxLesionClassesAndReadsTheChosenSigmoidChannel) {
    const Volume image = ramp({8, 8, 8});
    auto class_logit = [](float p, std::size_t c) {
        return static_cast<float>(std::sin(3.0 * p + static_cast<double>(c)) * 2.0);
    };
    auto four_classes = [&](std::span<const float> in, const std::array<std::int64_t, 5>&) {
        std::vector<float> out(4 * in.size());
        for (std::size_t c = 0; c < 4; ++c)
            for (std::size_t i = 0; i < in.size(); ++i)
                out[c * in.size() + i] = class_logit(in[i], c);
        return cls::Result<std::vector<float>>(out);
    };
    ModelManifest softmax = manifest({8, 8, 8}, Activation::softmax);
    softmax.output_channels = 4;
    softmax.lesion_classes = {1, 3};
    auto summed = run_sliding_window(image, softmax, {}, four_classes);
    ASSERT_TRUE(summed.ok()) << summed.error().message;

    ModelManifest sigmoids = manifest({8, 8, 8}, Activation::sigmoid);
    sigmoids.output_channels = 3;
    sigmoids.lesion_channel = 2;
    auto three_channels = [&](std::span<const float> in, const std::array<std::int64_t, 5>&) {
        std::vector<float> out(3 * in.size());
        for (std::size_t c = 0; c < 3; ++c)
            for (std::size_t i = 0; i < in.size(); ++i)
                out[c * in.size() + i] = class_logit(in[i], c);
        return cls::Result<std::vector<float>>(out);
    };
    auto chosen = run_sliding_window(image, sigmoids, {}, three_channels);
    ASSERT_TRUE(chosen.ok()) << chosen.error().message;

    for (std::size_t i = 0; i < image.voxel_count(); ++i) {
        const float p = image.data()[i];
        double total = 0.0;
        for (std::size_t c = 0; c < 4; ++c)
            total += std::exp(static_cast<double>(class_logit(p, c)));
        const double lesion = std::exp(static_cast<double>(class_logit(p, 1))) +
                              std::exp(static_cast<double>(class_logit(p, 3)));
        ASSERT_NEAR(summed->data()[i], lesion / total, 2e-6);
        ASSERT_NEAR(chosen->data()[i],
                    1.0 / (1.0 + std::exp(-static_cast<double>(class_logit(p, 2)))), 2e-6);
    }
}

// A plain output is probabilities already: one outside [0, 1] says the manifest is wrong, and
// it is refused, never clamped into a map.
TEST(SlidingWindow, RefusesAPlainOutputOutsideZeroToOne) {
    const Volume image = ramp({8, 8, 8});
    auto job = SlidingWindowInference::start(image, manifest({8, 8, 8}, Activation::none), {});
    ASSERT_TRUE(job.ok());
    std::vector<float> output(512, 0.25f);
    output[7] = 1.5f;
    output[9] = -0.01f;
    EXPECT_EQ(job->accept_output(output).error().message,
              "the model returned 2 values outside [0, 1] in patch 1, but its manifest says they "
              "are probabilities (activation none); give the activation it needs (sigmoid or "
              "softmax)");
    EXPECT_EQ(job->runs_done(), 0u);
    output[7] = 1.0f;
    output[9] = 0.0f;
    EXPECT_TRUE(job->accept_output(output).ok());
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

// ---- background patches ------------------------------------------------------------------

// 64 x 8 x 8: a ramp (foreground) for x < 24, then zeros (the minimum). Patches of 16 x 8 x 8
// at overlap 0.5 start at x = 0, 8, ..., 48; the four from x = 24 on hold only zeros.
Volume half_background() {
    Volume v = ramp({64, 8, 8});
    for (std::int64_t z = 0; z < 8; ++z)
        for (std::int64_t y = 0; y < 8; ++y)
            for (std::int64_t x = 24; x < 64; ++x) v.at(x, y, z) = 0.0f;
    return v;
}

ModelManifest skipping(BackgroundSkip skip) {
    ModelManifest m = manifest({8, 8, 16}, Activation::sigmoid);
    m.skip_background = skip;
    return m;
}

// A network that answers "no lesion" exactly (sigmoid(-1000) is 0 in double) on a patch of
// zeros, and a probability that varies with the input elsewhere.
Network background_aware() {
    return [](std::span<const float> input, const std::array<std::int64_t, 5>&) {
        const bool empty =
            std::all_of(input.begin(), input.end(), [](float v) { return v == 0.0f; });
        std::vector<float> logits(input.size());
        for (std::size_t i = 0; i < input.size(); ++i)
            logits[i] = empty ? -1000.0f : 8.0f * (input[i] - 0.3f);
        return cls::Result<std::vector<float>>(std::move(logits));
    };
}

TEST(SlidingWindow, SkipsPatchesWhollyAtTheMinimum) {
    auto all = SlidingWindowInference::start(half_background(), skipping(BackgroundSkip::none), {});
    auto some =
        SlidingWindowInference::start(half_background(), skipping(BackgroundSkip::minimum), {});
    ASSERT_TRUE(all.ok() && some.ok());
    EXPECT_EQ(all->plan().origins.size(), 7u);
    EXPECT_EQ(all->run_count(), 7u);
    EXPECT_EQ(all->skipped_patches(), 0u);
    EXPECT_EQ(some->run_count(), 3u);
    EXPECT_EQ(some->skipped_patches(), 4u);
    auto mirrored = SlidingWindowInference::start(
        half_background(), skipping(BackgroundSkip::minimum), {.mirror = true});
    EXPECT_EQ(mirrored->run_count(), 3u * 8u);
}

// Skipping is blending "no lesion" in the same order: a network that answers exactly that on
// background gives the same map to the last bit, with and without mirroring.
TEST(SlidingWindow, ASkippedPatchBlendsAsANetworkAnsweringZero) {
    for (const bool mirror : {false, true}) {
        auto run_all = run_sliding_window(half_background(), skipping(BackgroundSkip::none),
                                          {.mirror = mirror}, background_aware());
        auto skip = run_sliding_window(half_background(), skipping(BackgroundSkip::minimum),
                                       {.mirror = mirror}, background_aware());
        ASSERT_TRUE(run_all.ok() && skip.ok());
        ASSERT_EQ(run_all->values().size(), skip->values().size());
        EXPECT_EQ(std::memcmp(run_all->data(), skip->data(), skip->values().size() * sizeof(float)),
                  0)
            << "mirror " << mirror;
    }
}

// Where a run patch (answering 1) and a skipped one overlap, the blend is the run patch's
// Gaussian weight over both weights, computed here from the Gaussian's definition.
TEST(SlidingWindow, WhereRunAndSkippedPatchesOverlapTheBlendWeighsTheSkippedAsZero) {
    const Network certain = [](std::span<const float> input, const std::array<std::int64_t, 5>&) {
        return cls::Result<std::vector<float>>(std::vector<float>(input.size(), 1000.0f));
    };
    auto out =
        run_sliding_window(half_background(), skipping(BackgroundSkip::minimum), {}, certain);
    ASSERT_TRUE(out.ok());
    // x weight of a 16-wide patch at `origin`: centre 7.5, sigma 2 (y and z weights are common
    // to both patches here and cancel).
    const auto weight = [](double x, double origin) {
        const double d = (x - origin - 7.5) / 2.0;
        return std::exp(-0.5 * d * d);
    };
    for (std::int64_t x = 0; x < 64; ++x) {
        double expected = 1.0;  // covered by run patches only (origins 0, 8, 16)
        if (x >= 24 && x < 32) expected = weight(x, 16) / (weight(x, 16) + weight(x, 24));
        if (x >= 32) expected = 0.0;  // covered by skipped patches only
        EXPECT_NEAR(out->at(x, 3, 4), expected, 2e-6) << "x " << x;
    }
}

// An image with nothing in it still runs one patch: every job has a first input to hand out.
TEST(SlidingWindow, AJobOfOnlyBackgroundStillRunsOnePatch) {
    const Volume empty({40, 8, 8}, cls::Affine::Identity());
    auto job = SlidingWindowInference::start(empty, skipping(BackgroundSkip::minimum), {});
    ASSERT_TRUE(job.ok());
    EXPECT_FALSE(job->finished());
    EXPECT_EQ(job->run_count(), 1u);
    EXPECT_EQ(job->skipped_patches(), job->plan().origins.size() - 1);
    const std::vector<float> input = job->next_input();
    ASSERT_TRUE(job->accept_output(std::vector<float>(input.size(), -1000.0f)).ok());
    EXPECT_TRUE(job->finished());
    const Volume out = job->probability();
    EXPECT_TRUE(
        std::all_of(out.values().begin(), out.values().end(), [](float p) { return p == 0.0f; }));
}

// Skull-stripped scans keep 0 outside the brain, which z-scoring moves off the minimum when
// the brain holds darker voxels: `nonzero` skips those patches, `minimum` cannot.
TEST(SlidingWindow, NonzeroSkipsPatchesWithNoNonZeroVoxel) {
    Volume image = half_background();
    image.at(3, 3, 3) = -5.0f;  // a dark artefact inside the brain is now the minimum
    for (const auto& [skip, expected] :
         {std::pair{BackgroundSkip::minimum, 0u}, std::pair{BackgroundSkip::nonzero, 4u}}) {
        ModelManifest m = skipping(skip);
        m.normalisation.scheme = NormalisationScheme::zscore;
        auto job = SlidingWindowInference::start(image, m, {});
        ASSERT_TRUE(job.ok()) << job.error().message;
        EXPECT_EQ(job->skipped_patches(), expected) << to_string(skip);
    }
}

TEST(SlidingWindow, RefusesImagesWithNonFiniteVoxels) {
    Volume image = ramp({8, 8, 8});
    image.at(1, 2, 3) = std::numeric_limits<float>::infinity();
    auto job = SlidingWindowInference::start(image, manifest({8, 8, 8}, Activation::sigmoid), {});
    ASSERT_FALSE(job.ok());
    EXPECT_NE(job.error().message.find("1 NaN or infinite voxels"), std::string::npos);
}

}  // namespace
