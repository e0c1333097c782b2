#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "cls/certificate.hpp"
#include "cls/lesion_definition.hpp"

namespace cls {
namespace {

Volume line(std::vector<float> values) {
    Volume v({static_cast<std::int64_t>(values.size()), 1, 1}, Affine::Identity());
    v.values() = std::move(values);
    return v;
}

std::vector<Volume> channels(std::vector<std::vector<float>> per_channel) {
    std::vector<Volume> out;
    for (auto& values : per_channel) out.push_back(line(std::move(values)));
    return out;
}

// A little-endian NIfTI-1 of `count` float32 volumes of `dims` along dim[4] (or dim[5] with
// dim[4] = 1): a 3D file from the writer, its header patched, the other volumes appended.
std::vector<std::uint8_t> multi_volume_nifti(const std::vector<std::vector<float>>& volumes,
                                             const Dims& dims, bool fifth_axis = false) {
    Volume first(dims, Affine::Identity());
    first.values() = volumes.front();
    std::vector<std::uint8_t> bytes = nifti::write(first, {});
    const auto put16 = [&](std::size_t offset, std::int16_t value) {
        std::memcpy(bytes.data() + offset, &value, sizeof value);
    };
    constexpr std::size_t kDim = 40;  // short dim[8] in nifti1.h
    put16(kDim, fifth_axis ? 5 : 4);
    put16(kDim + 2 * 4, fifth_axis ? 1 : static_cast<std::int16_t>(volumes.size()));
    if (fifth_axis) put16(kDim + 2 * 5, static_cast<std::int16_t>(volumes.size()));
    for (std::size_t v = 1; v < volumes.size(); ++v) {
        const auto* raw = reinterpret_cast<const std::uint8_t*>(volumes[v].data());
        bytes.insert(bytes.end(), raw, raw + volumes[v].size() * sizeof(float));
    }
    return bytes;
}

TEST(LesionChannels, ParsesListsAndRefusesNonsense) {
    auto one = parse_lesion_channels("1", ChannelCombine::sum);
    ASSERT_TRUE(one);
    EXPECT_EQ(one->channels, std::vector<int>{1});
    auto three = parse_lesion_channels("3,1,2", ChannelCombine::max);
    ASSERT_TRUE(three);
    EXPECT_EQ(three->channels, (std::vector<int>{1, 2, 3}));
    EXPECT_EQ(three->combine, ChannelCombine::max);
    EXPECT_EQ(channels_text(*three), "1,2,3");
    for (const char* bad : {"", "a", "1,,2", "-1", "1,1", "1.5", " 1"}) {
        EXPECT_FALSE(parse_lesion_channels(bad, ChannelCombine::sum)) << bad;
    }
    EXPECT_EQ(parse_lesion_channels("1,1", ChannelCombine::sum).error().message,
              "--lesion-channels '1,1': 1 is listed twice");
    EXPECT_FALSE(parse_channel_combine("mean"));
}

TEST(LesionLabels, ParsesClassesNonzeroAndBinary) {
    auto classes = parse_lesion_labels("4,1,2");
    ASSERT_TRUE(classes);
    EXPECT_EQ(classes->kind, LesionLabels::Kind::classes);
    EXPECT_EQ(classes->classes, (std::vector<int>{1, 2, 4}));
    EXPECT_EQ(labels_text(*classes), "1,2,4");
    EXPECT_EQ(parse_lesion_labels("nonzero")->kind, LesionLabels::Kind::nonzero);
    EXPECT_EQ(parse_lesion_labels("binary")->kind, LesionLabels::Kind::binary);
    EXPECT_EQ(parse_lesion_labels("0,1").error().message,
              "--lesion-labels '0,1': 0 is background, not a lesion class");
}

TEST(ProbabilityChannels, CountsTheFourthOrFifthAxis) {
    nifti::Header header;
    header.dims = {4, 4, 4};
    EXPECT_EQ(*probability_channel_count(header), 1);
    header.dims = {4, 4, 4, 2};
    EXPECT_EQ(*probability_channel_count(header), 2);
    header.dims = {4, 4, 4, 1, 3};  // ITK / MONAI vector image
    EXPECT_EQ(*probability_channel_count(header), 3);
    header.dims = {4, 4, 4, 1};
    EXPECT_EQ(*probability_channel_count(header), 1);
    header.dims = {4, 4, 4, 2, 3};
    auto both = probability_channel_count(header);
    ASSERT_FALSE(both);
    EXPECT_NE(both.error().message.find("is 4x4x4x2x3"), std::string::npos);
}

constexpr std::string_view kAxis = "along its 4th dimension";

TEST(LesionProbabilityMap, RefusesSeveralChannelsWithoutAChoice) {
    auto refused = lesion_probability_map(channels({{0.9f, 0.2f}, {0.1f, 0.8f}}), {}, kAxis);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().message,
              "holds 2 probability channels (along its 4th dimension); say which are lesion with "
              "--lesion-channels (counted from 0, e.g. --lesion-channels 1 for a two-class "
              "softmax) or the app's channel picker");
    auto single = lesion_probability_map(channels({{0.9f, 0.2f}}), {}, kAxis);
    ASSERT_TRUE(single);
    EXPECT_EQ(single->values(), (std::vector<float>{0.9f, 0.2f}));
    auto logit = lesion_probability_map(channels({{0.9f, 1.5f}}), {}, kAxis);
    EXPECT_FALSE(logit);  // one channel is checked as well as several
}

TEST(LesionProbabilityMap, PicksSumsAndMaxes) {
    const std::vector<std::vector<float>> softmax = {
        {0.7f, 0.1f, 0.25f}, {0.1f, 0.6f, 0.25f}, {0.2f, 0.3f, 0.5f}};
    auto picked = lesion_probability_map(channels(softmax), {{1}, ChannelCombine::sum}, kAxis);
    ASSERT_TRUE(picked);
    EXPECT_EQ(picked->values(), softmax[1]);
    auto summed = lesion_probability_map(channels(softmax), {{1, 2}, ChannelCombine::sum}, kAxis);
    ASSERT_TRUE(summed);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(summed->values()[i], softmax[1][i] + softmax[2][i]) << i;
    }
    auto maxed = lesion_probability_map(channels(softmax), {{1, 2}, ChannelCombine::max}, kAxis);
    ASSERT_TRUE(maxed);
    EXPECT_EQ(maxed->values(), (std::vector<float>{0.2f, 0.6f, 0.5f}));
}

TEST(LesionProbabilityMap, RefusesSumsAboveOneAndReadsRoundingAsOne) {
    // Independent sigmoids: summing them is not a probability.
    auto over = lesion_probability_map(channels({{0.9f, 0.1f, 0.6f}, {0.8f, 0.1f, 0.6f}}),
                                       {{0, 1}, ChannelCombine::sum}, kAxis);
    ASSERT_FALSE(over);
    EXPECT_EQ(over.error().message,
              "channels 0+1 sum to more than 1 (by over 1e-4) at 2 voxels, so they are not "
              "classes of one softmax; use --combine max (independent sigmoid channels) or a "
              "single channel");
    // A float32 softmax whose classes sum to 1 + 1.2e-7 (one ulp above 1): rounding, read as 1.
    const float a = 0.5f, b = std::nextafter(std::nextafter(0.5f, 1.0f), 1.0f);
    ASSERT_GT(a + b, 1.0f);
    auto rounding =
        lesion_probability_map(channels({{a}, {b}}), {{0, 1}, ChannelCombine::sum}, kAxis);
    ASSERT_TRUE(rounding) << rounding.error().message;
    EXPECT_EQ(rounding->values()[0], 1.0f);
}

TEST(LesionProbabilityMap, RefusesMissingChannelsAndBadValues) {
    auto missing =
        lesion_probability_map(channels({{0.5f}, {0.5f}}), {{2}, ChannelCombine::sum}, kAxis);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().message,
              "has 2 probability channels (0 to 1) but --lesion-channels names channel 2");
    auto logits =
        lesion_probability_map(channels({{0.5f}, {3.5f}}), {{1}, ChannelCombine::sum}, kAxis);
    ASSERT_FALSE(logits);
    EXPECT_EQ(logits.error().message.rfind("channel 1: ", 0), 0u) << logits.error().message;
}

TEST(ReadProbabilityMap, ReadsFourAndFiveDimensionalFiles) {
    const std::vector<std::vector<float>> softmax = {{0.75f, 0.5f, 1.0f, 0.0f},
                                                     {0.25f, 0.5f, 0.0f, 1.0f}};
    for (bool fifth : {false, true}) {
        const auto bytes = multi_volume_nifti(softmax, {2, 2, 1}, fifth);
        auto refused = read_probability_map(bytes, {});
        ASSERT_FALSE(refused);
        // The refusal says where the channels are: ITK keeps them on the 5th axis.
        EXPECT_NE(refused.error().message.find(
                      fifth ? "holds 2 probability channels (along its 5th dimension, as ITK and "
                              "MONAI store vector images)"
                            : "holds 2 probability channels (along its 4th dimension)"),
                  std::string::npos)
            << refused.error().message;
        auto lesion = read_probability_map(bytes, {{1}, ChannelCombine::sum});
        ASSERT_TRUE(lesion) << lesion.error().message;
        EXPECT_EQ(lesion->volume.values(), softmax[1]) << "fifth axis: " << fifth;
        EXPECT_EQ(lesion->volume.dims(), (Dims{2, 2, 1}));
    }
    // A 3D map is read as before, and channel 0 of it is itself.
    Volume map({2, 2, 1}, Affine::Identity());
    map.values() = {0.1f, 0.2f, 0.3f, 0.4f};
    const auto plain = nifti::write(map, {});
    EXPECT_EQ(read_probability_map(plain, {})->volume.values(), map.values());
    EXPECT_EQ(read_probability_map(plain, {{0}, ChannelCombine::sum})->volume.values(),
              map.values());
    EXPECT_FALSE(read_probability_map(plain, {{1}, ChannelCombine::sum}));
}

TEST(ReadProbabilityMap, RefusesASegmentationStoredAsIntegers) {
    Volume mask({2, 2, 1}, Affine::Identity());
    mask.values() = {0, 1, 1, 0};
    auto refused =
        read_probability_map(nifti::write(mask, {.datatype = nifti::DataType::uint8}), {});
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().message.rfind(
                  "is stored as uint8 integers without scaling, so as a probability map it could "
                  "hold only 0 and 1: it is a segmentation",
                  0),
              0u)
        << refused.error().message;
    // The same values stored as float are a (sharp) map; integers with a scale are probabilities.
    EXPECT_TRUE(read_probability_map(nifti::write(mask, {}), {}));
    nifti::Header scaled;
    scaled.datatype = nifti::DataType::uint8;
    scaled.scl_slope = 1.0 / 255;
    EXPECT_TRUE(check_not_a_segmentation(scaled));
    scaled.scl_slope = 1.0;
    EXPECT_FALSE(check_not_a_segmentation(scaled));
}

TEST(LesionLabelsCheck, ClassesNeedWholeNumbers) {
    const LesionLabels classes{LesionLabels::Kind::classes, {1, 2, 4}};
    EXPECT_TRUE(check_label(std::vector<float>{0, 1, 2, 4, 3}, classes));
    auto fractional = check_label(std::vector<float>{0, 1, 0.5f, 0.25f}, classes);
    ASSERT_FALSE(fractional);
    EXPECT_EQ(fractional.error().message,
              "label has 2 values that are not whole numbers (e.g. 0.5), so its classes cannot "
              "be read; was it resampled with interpolation? Resample labels with nearest "
              "neighbour");
    EXPECT_FALSE(check_label(std::vector<float>{0, std::nanf("")},
                             LesionLabels{LesionLabels::Kind::nonzero, {}}));
    // Without a choice, a multi-class label is refused and the message names the option.
    auto binary = check_label(std::vector<float>{0, 1, 2, 4}, LesionLabels{});
    ASSERT_FALSE(binary);
    EXPECT_NE(binary.error().message.find("--lesion-labels"), std::string::npos);
}

TEST(LesionLabelsCheck, BinarisesByClass) {
    std::vector<float> brats = {0, 1, 2, 4, 3, 1e10f};
    binarise_label(brats, LesionLabels{LesionLabels::Kind::classes, {1, 4}});
    EXPECT_EQ(brats, (std::vector<float>{0, 1, 0, 1, 0, 0}));
    std::vector<float> any = {0, 2, 0, 255};
    binarise_label(any, LesionLabels{LesionLabels::Kind::nonzero, {}});
    EXPECT_EQ(any, (std::vector<float>{0, 1, 0, 1}));
}

TEST(LesionCertificate, RecordsTheDefinitionAndReadsVersionOne) {
    Certificate certificate;
    certificate.calibration.settings = {};
    certificate.calibration.n = 0;
    certificate.calibration.threshold = 0.25;
    certificate.lesion = {{{1, 2, 3}, ChannelCombine::max},
                          {LesionLabels::Kind::classes, {1, 2, 4}}};
    const std::string json = to_json(certificate);
    EXPECT_NE(json.find("\"format_version\": 4"), std::string::npos);
    auto read = parse_certificate(json);
    ASSERT_TRUE(read) << read.error().message;
    EXPECT_EQ(read->lesion, certificate.lesion);

    // Version 1 had neither field: single-channel maps, binary labels.
    std::string old = json;
    old.replace(old.find("\"format_version\": 4"), 19, "\"format_version\": 1");
    const auto strip = [&](const std::string& key) {
        const std::size_t at = old.find("\"" + key + "\"");
        const std::size_t end = old.find("\n", old.find(key == "lesion_channels" ? "}" : "]", at));
        old.erase(at, end - at + 1);
    };
    strip("lesion_channels");
    strip("lesion_labels");
    auto legacy = parse_certificate(old);
    ASSERT_TRUE(legacy) << legacy.error().message << "\n" << old;
    EXPECT_EQ(legacy->lesion, LesionDefinition{});

    std::string newer = json;
    newer.replace(newer.find("\"format_version\": 4"), 19, "\"format_version\": 9");
    EXPECT_EQ(parse_certificate(newer).error().message,
              "format_version 9 is newer than this tool reads (4); use a newer cls");
    std::string bad = json;
    bad.replace(bad.find("\"combine\": \"max\""), 16, "\"combine\": \"avg\"");
    EXPECT_FALSE(parse_certificate(bad));
}

}  // namespace
}  // namespace cls
