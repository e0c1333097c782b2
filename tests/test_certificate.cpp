#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>

#include "cls/certificate.hpp"

namespace cls {
namespace {

Certificate sample() {
    Certificate c;
    c.tool_version = "test";
    c.calibration.settings = {.method = Method::cls, .epsilon = 0.1, .alpha = 0.2};
    c.calibration.n = 2;
    c.calibration.k = 1;
    c.calibration.empty_mask_count = 1;
    c.calibration.threshold = static_cast<double>(0.123456789f);  // a float32 data value
    c.calibration.cases = {{"a", 12, static_cast<double>(0.123456789f), false},
                           {"b", 0, kInfinity, false}};
    c.inputs = {{"aa", "ab"}, {"ba", "bb"}};
    return c;
}

TEST(Certificate, RoundTripsTheThresholdBitForBit) {
    const Certificate original = sample();
    auto parsed = parse_certificate(to_json(original));
    ASSERT_TRUE(parsed) << parsed.error().message;
    const double a = original.calibration.threshold, b = parsed->calibration.threshold;
    EXPECT_EQ(std::memcmp(&a, &b, sizeof a), 0);
    EXPECT_EQ(parsed->calibration.k, 1u);
    EXPECT_EQ(parsed->calibration.cases[1].critical_threshold, kInfinity);
    EXPECT_EQ(parsed->inputs[1].label_sha256, "bb");
}

TEST(Certificate, RecordsTheRegionAndProfilesAndRefusesBadOnes) {
    Certificate c = sample();
    c.region = RegionOfInterest::nonzero;
    c.profiles = {{.voxel_mm3 = 1.0,
                   .region_voxels = 50,
                   .predicted_voxels = 3,
                   .uncertain_voxels = 4,
                   .intensity_percentiles = std::nullopt},
                  {.voxel_mm3 = 0.125,
                   .region_voxels = 60,
                   .predicted_voxels = 0,
                   .uncertain_voxels = 60,
                   .intensity_percentiles = std::array<float, 7>{1, 2, 3, 4, 5, 6, 7}}};
    auto parsed = parse_certificate(to_json(c));
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(parsed->region, RegionOfInterest::nonzero);
    EXPECT_EQ(parsed->profiles, c.profiles);
    // Older certificates: no region (none), no profiles.
    auto old = nlohmann::json::parse(to_json(sample()));
    EXPECT_EQ(old["region_of_interest"], "none");
    EXPECT_EQ(old["case_profiles"], nullptr);
    old.erase("region_of_interest");
    old.erase("case_profiles");
    old["format_version"] = 3;
    auto read = parse_certificate(old.dump());
    ASSERT_TRUE(read) << read.error().message;
    EXPECT_EQ(read->region, RegionOfInterest::none);
    EXPECT_TRUE(read->profiles.empty());

    const auto refusal = [&](const std::function<void(nlohmann::json&)>& change) {
        auto j = nlohmann::json::parse(to_json(c));
        change(j);
        auto result = parse_certificate(j.dump());
        return result ? std::string("accepted") : result.error().message;
    };
    EXPECT_EQ(refusal([](auto& j) { j["region_of_interest"] = 3; }),
              "field 'region_of_interest' must be \"none\", \"nonzero\" or \"mask\"");
    EXPECT_EQ(refusal([](auto& j) { j["case_profiles"].erase(1); }),
              "field 'case_profiles' must be null or list one profile per case (2)");
    EXPECT_EQ(refusal([](auto& j) { j["case_profiles"][1]["voxel_mm3"] = -1; }),
              "case_profiles[1]: profile field 'voxel_mm3' must be a positive number");
    EXPECT_EQ(refusal([](auto& j) { j["case_profiles"][0]["predicted_voxels"] = 51; }),
              "case_profiles[0]: a case profile counts more predicted or uncertain voxels than "
              "its 50 region voxels");
    EXPECT_EQ(refusal([](auto& j) { j["case_profiles"][1]["intensity_percentiles"][0] = 9; }),
              "case_profiles[1]: profile field 'intensity_percentiles' must hold finite numbers "
              "in ascending order");
}

TEST(Certificate, ReadsTheEmptyMaskCountUnderItsOlderName) {
    // Versions 1 and 2 wrote the count as "empty_masks", the name the policy has elsewhere.
    auto j = nlohmann::json::parse(to_json(sample()));
    j["format_version"] = 2;
    j["empty_masks"] = j["empty_mask_count"];
    j.erase("empty_mask_count");
    auto parsed = parse_certificate(j.dump());
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(parsed->calibration.empty_mask_count, 1u);
}

TEST(Certificate, HasTheDocumentedFields) {
    const auto j = nlohmann::json::parse(to_json(sample()));
    for (const char* key : {"method", "epsilon", "alpha", "n", "k", "threshold",
                            "empty_mask_policy", "empty_mask_count", "cases", "tool_version"}) {
        EXPECT_TRUE(j.contains(key)) << key;
    }
    EXPECT_TRUE(j["cases"][1]["critical_threshold"].is_null());  // +inf
    EXPECT_EQ(j["cases"][0]["probabilities_sha256"], "aa");
}

TEST(Certificate, InfiniteThresholdIsNull) {
    Certificate c = sample();
    c.calibration.threshold = kInfinity;
    auto parsed = parse_certificate(to_json(c));
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->calibration.threshold, kInfinity);
}

TEST(Certificate, RefusesMalformedDocumentsWithTheReason) {
    const auto refuse = [](const std::string& text, const std::string& expected) {
        auto parsed = parse_certificate(text);
        ASSERT_FALSE(parsed) << text;
        EXPECT_NE(parsed.error().message.find(expected), std::string::npos)
            << parsed.error().message;
    };
    refuse("{", "not valid JSON");
    refuse("[]", "JSON object");
    refuse(R"({"format": "other"})", "not a calibration certificate");
    auto j = nlohmann::json::parse(to_json(sample()));
    j["epsilon"] = 1.5;
    refuse(j.dump(), "epsilon must be in [0, 1)");
    j = nlohmann::json::parse(to_json(sample()));
    j["method"] = "magic";
    refuse(j.dump(), "unknown method 'magic'");
    j = nlohmann::json::parse(to_json(sample()));
    j["threshold"] = "0.5";
    refuse(j.dump(), "field 'threshold' must be a number");
    j = nlohmann::json::parse(to_json(sample()));
    j["threshold"] = -0.5;
    refuse(j.dump(),
           "field 'threshold' must be in [0, 1], or null for +inf (predict nothing), "
           "got -0.5");
    j["threshold"] = 1.5;  // p >= 1.5 would predict nothing, silently
    refuse(j.dump(),
           "field 'threshold' must be in [0, 1], or null for +inf (predict nothing), "
           "got 1.5");
    j = nlohmann::json::parse(to_json(sample()));
    j["cases"][0]["critical_threshold"] = 2;
    refuse(j.dump(), "case 'a': field 'critical_threshold' must be in [0, 1], or null");
    j = nlohmann::json::parse(to_json(sample()));
    j["cases"][0].erase("name");
    refuse(j.dump(), "field 'name' is missing");
}

TEST(Certificate, FindsTheCalibrationCaseByItsHashes) {
    const Certificate c = sample();
    EXPECT_EQ(find_calibration_case(c, "ba", "bb"), std::optional<std::size_t>(1));
    EXPECT_EQ(find_calibration_case(c, "ba"), std::optional<std::size_t>(1));  // no label at hand
    EXPECT_EQ(find_calibration_case(c, "ba", "ab"), std::nullopt);  // a new label: a new case
    EXPECT_EQ(find_calibration_case(c, "zz"), std::nullopt);
    Certificate unhashed = sample();
    unhashed.inputs = {{"", ""}, {"", ""}};  // hashes not recorded match nothing
    EXPECT_EQ(find_calibration_case(unhashed, ""), std::nullopt);
    unhashed.inputs.clear();
    EXPECT_EQ(find_calibration_case(unhashed, "aa"), std::nullopt);
}

}  // namespace
}  // namespace cls
