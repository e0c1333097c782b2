// Calibration against golden values from an independent brute-force numpy reference
// (tests/reference/calibration_golden.py; its docstring describes the JSON). Thresholds are data
// values, so they are compared with ==.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "cls/calibration.hpp"

namespace {

using nlohmann::json;

// The reference writes +inf as null.
double threshold_of(const json& value) {
    return value.is_null() ? cls::kInfinity : value.get<double>();
}

std::vector<cls::LesionScores> lesion_scores(const json& scenario) {
    std::vector<cls::LesionScores> cases;
    for (const json& c : scenario.at("cases")) {
        cls::LesionScores scores{c.at("name").get<std::string>(), c.at("voxels").get<std::size_t>(),
                                 c.at("lesion_probabilities").get<std::vector<float>>()};
        // The reference leaves the probabilities unsorted on purpose.
        std::ranges::sort(scores.sorted_lesion_probabilities);
        cases.push_back(std::move(scores));
    }
    return cases;
}

// Per epsilon, the expected critical threshold of each case.
std::map<double, std::vector<double>> critical_thresholds(const json& scenario) {
    std::map<double, std::vector<double>> by_epsilon;
    for (const json& entry : scenario.at("critical_thresholds")) {
        auto& thresholds = by_epsilon[entry.at("epsilon").get<double>()];
        for (const json& t : entry.at("thresholds")) thresholds.push_back(threshold_of(t));
    }
    return by_epsilon;
}

cls::CalibrationSettings settings_of(const json& check) {
    cls::CalibrationSettings settings;
    settings.method = check.at("method") == "cls" ? cls::Method::cls : cls::Method::crc;
    settings.epsilon = check.at("epsilon").get<double>();
    settings.alpha = check.at("alpha").get<double>();
    settings.empty_masks = check.at("policy") == "satisfied" ? cls::EmptyMaskPolicy::satisfied
                                                             : cls::EmptyMaskPolicy::exclude;
    return settings;
}

// A whole word, so that "19" is not found inside "119".
bool mentions_number(const std::string& message, std::size_t number) {
    return std::regex_search(message, std::regex("\\b" + std::to_string(number) + "\\b"));
}

class CalibrationGolden : public ::testing::Test {
protected:
    void SetUp() override {
        const char* dir = std::getenv("CLS_REFERENCE_DIR");
        if (dir == nullptr) {
            GTEST_SKIP() << "CLS_REFERENCE_DIR is not set: run through ctest, whose fixture runs "
                            "tests/reference/calibration_golden.py to write the golden values";
        }
        const auto path = std::filesystem::path(dir) / "calibration_golden.json";
        std::ifstream in(path);
        ASSERT_TRUE(in) << "cannot read " << path;
        golden_ = json::parse(in);
        ASSERT_FALSE(golden_.at("scenarios").empty());
    }

    json golden_;
};

TEST_F(CalibrationGolden, CriticalThresholdOfEachCase) {
    for (const json& scenario : golden_.at("scenarios")) {
        const auto cases = lesion_scores(scenario);
        for (const auto& [epsilon, expected] : critical_thresholds(scenario)) {
            for (std::size_t i = 0; i < cases.size(); ++i) {
                EXPECT_EQ(cls::critical_threshold(cases[i].sorted_lesion_probabilities, epsilon),
                          expected[i])
                    << scenario.at("name") << " " << cases[i].name << ", epsilon " << epsilon;
            }
        }
    }
}

TEST_F(CalibrationGolden, CalibrateMatchesReference) {
    for (const json& scenario : golden_.at("scenarios")) {
        const auto cases = lesion_scores(scenario);
        const auto critical = critical_thresholds(scenario);
        for (const json& check : scenario.at("checks")) {
            SCOPED_TRACE(scenario.at("name").get<std::string>() + " " + check.dump());
            const auto settings = settings_of(check);
            const auto result = cls::calibrate(cases, settings);

            if (check.at("error").get<bool>()) {
                ASSERT_FALSE(result.ok()) << "threshold " << result->threshold;
                if (settings.method == cls::Method::cls) {
                    const auto minimum = check.at("minimum_cases").get<std::size_t>();
                    EXPECT_TRUE(mentions_number(result.error().message, minimum))
                        << "the message should give the minimum of " << minimum
                        << " cases: " << result.error().message;
                }
                continue;
            }
            ASSERT_TRUE(result.ok()) << result.error().message;
            EXPECT_EQ(result->n, check.at("n").get<std::size_t>());
            EXPECT_EQ(result->threshold, threshold_of(check.at("threshold")));
            if (settings.method == cls::Method::crc) {
                const auto direct = cls::crc_threshold(cases, settings.epsilon);
                ASSERT_TRUE(direct.ok()) << direct.error().message;
                EXPECT_EQ(*direct, result->threshold);
                continue;
            }

            EXPECT_EQ(result->k, check.at("k").get<std::size_t>());
            const auto empty = std::ranges::count_if(cases, &cls::LesionScores::empty_mask);
            EXPECT_EQ(result->empty_mask_count, static_cast<std::size_t>(empty));
            // The per-case report (what a certificate lists) agrees with the reference too.
            ASSERT_EQ(result->cases.size(), cases.size());
            const auto& expected = critical.at(settings.epsilon);
            for (std::size_t i = 0; i < cases.size(); ++i) {
                EXPECT_EQ(result->cases[i].critical_threshold, expected[i]) << cases[i].name;
                EXPECT_EQ(
                    result->cases[i].excluded,
                    cases[i].empty_mask() && settings.empty_masks == cls::EmptyMaskPolicy::exclude)
                    << cases[i].name;
            }
        }
    }
}

}  // namespace
