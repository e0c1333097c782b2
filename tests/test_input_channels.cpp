// Models of several input channels: which file feeds which channel
// (cls/inference/input_channels.hpp), cases grouped with what is missing named, and the
// sliding window feeding every channel, each normalised on its own, on one grid.
#include <gtest/gtest.h>

#include <cmath>

#include "cls/inference/input_channels.hpp"
#include "cls/inference/sliding_window.hpp"

namespace cls::inference {
namespace {

ModelManifest brats() {
    ModelManifest m;
    m.input_channels = 4;
    m.input_modalities = {"FLAIR", "T1", "T1c", "T2"};
    m.patch_size = {8, 8, 8};
    return m;
}

TEST(InputChannels, PlacesFilesByNnUNetSuffixBidsSuffixOrAModalityAtTheEnd) {
    const ModelManifest m = brats();
    auto placed = [&](std::string_view path) {
        auto file = channel_of_file(path, m);
        return file ? file->case_name + " " + std::to_string(file->channel) : file.error().message;
    };
    EXPECT_EQ(placed("imagesTs/case_003_0002.nii.gz"), "case_003 2");
    EXPECT_EQ(placed("sub-01_ses-01_FLAIR.nii.gz"), "sub-01_ses-01 0");
    EXPECT_EQ(placed("patient07_t1C.nii"), "patient07 2");
    EXPECT_EQ(placed("BraTS2021_00000_flair.nii.gz"), "BraTS2021_00000 0");
    EXPECT_EQ(placed("x/case_003_0004.nii.gz"),
              "x/case_003_0004.nii.gz: channel 4 (_0004) but the model takes 4 input channels");
    EXPECT_EQ(placed("patient07_PD.nii.gz"),
              "patient07_PD.nii.gz: cannot tell which of the model's 4 input channels it is; name "
              "it <case>_0000.nii.gz ... <case>_0003.nii.gz, or end its name with one of FLAIR, "
              "T1, T1c, T2 (<case>_FLAIR.nii.gz)");
}

TEST(InputChannels, GroupsCasesAndNamesWhatIsMissing) {
    const ModelManifest m = brats();
    auto grouped = group_case_channels({"b_0003.nii", "b_0000.nii", "a_T2.nii", "a_FLAIR.nii",
                                        "a_T1c.nii", "a_T1.nii", "b_0002.nii", "b_0001.nii"},
                                       m);
    ASSERT_TRUE(grouped.ok()) << grouped.error().message;
    ASSERT_EQ(grouped->size(), 2u);
    EXPECT_EQ((*grouped)[0].name, "a");
    EXPECT_EQ((*grouped)[0].files,
              (std::vector<std::string>{"a_FLAIR.nii", "a_T1.nii", "a_T1c.nii", "a_T2.nii"}));
    EXPECT_EQ((*grouped)[1].files,
              (std::vector<std::string>{"b_0000.nii", "b_0001.nii", "b_0002.nii", "b_0003.nii"}));
    EXPECT_EQ(group_case_channels({"a_FLAIR.nii", "a_T1.nii", "a_T2.nii"}, m).error().message,
              "case a has no channel 2 (T1c) file among 3 given; name it <case>_0000.nii.gz ... "
              "<case>_0003.nii.gz, or end its name with one of FLAIR, T1, T1c, T2 "
              "(<case>_FLAIR.nii.gz)");
    EXPECT_EQ(group_case_channels({"a_FLAIR.nii", "a_0000.nii.gz"}, m).error().message,
              "a_0000.nii.gz: case a already has its channel 0 (FLAIR) from a_FLAIR.nii");
}

Volume cube(float base, double step) {
    Volume v({8, 8, 8}, Affine::Identity());
    for (std::size_t i = 0; i < v.voxel_count(); ++i)
        v.data()[i] = base + static_cast<float>(step * std::sin(0.1 * static_cast<double>(i)));
    return v;
}

// Two channels, a network whose logit is channel 0 minus channel 1: the map is
// sigmoid(a - b) at every voxel, so each channel reached its own place in the tensor.
TEST(SlidingWindow, FeedsEveryChannelInTheManifestsOrder) {
    ModelManifest m;
    m.input_channels = 2;
    m.input_modalities = {"FLAIR", "T1"};
    m.patch_size = {8, 8, 8};
    m.normalisation.scheme = NormalisationScheme::none;
    const Volume a = cube(0.5f, 0.3), b = cube(-0.2f, 0.7);
    const Volume* channels[] = {&a, &b};
    auto difference = [](std::span<const float> in, const std::array<std::int64_t, 5>& shape) {
        EXPECT_EQ(shape[1], 2);
        const std::size_t voxels = in.size() / 2;
        std::vector<float> out(voxels);
        for (std::size_t i = 0; i < voxels; ++i) out[i] = in[i] - in[voxels + i];
        return cls::Result<std::vector<float>>(out);
    };
    auto job = SlidingWindowInference::start(channels, m, {});
    ASSERT_TRUE(job.ok()) << job.error().message;
    EXPECT_EQ(job->input_shape(), (std::array<std::int64_t, 5>{1, 2, 8, 8, 8}));
    while (!job->finished()) {
        auto output = difference(job->next_input(), job->input_shape());
        ASSERT_TRUE(job->accept_output(*output).ok());
    }
    const Volume map = job->probability();
    for (std::size_t i = 0; i < map.voxel_count(); ++i) {
        const double expected = 1.0 / (1.0 + std::exp(-(double(a.data()[i]) - b.data()[i])));
        ASSERT_NEAR(map.data()[i], expected, 1e-6);
    }

    // Channels on another grid, or too few, are refused by name.
    Affine shifted = Affine::Identity();
    shifted(0, 3) = 2.0;
    Volume elsewhere({8, 8, 8}, shifted);
    const Volume* mismatched[] = {&a, &elsewhere};
    EXPECT_EQ(SlidingWindowInference::start(mismatched, m, {})
                  .error()
                  .message.rfind("channel 1 (T1): ", 0),
              0u);
    const Volume* one[] = {&a};
    EXPECT_EQ(SlidingWindowInference::start(one, m, {}).error().message,
              "the model takes 2 input channels (FLAIR, T1); 1 were given");
}

}  // namespace
}  // namespace cls::inference
