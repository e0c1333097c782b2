#include <gtest/gtest.h>

#include <cstring>
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
