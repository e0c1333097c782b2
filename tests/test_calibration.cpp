// Properties of the exact calibration engine, checked by brute force on random and
// hand-built cases. Golden values from an independent numpy script live in
// test_calibration_golden.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "cls/calibration.hpp"
#include "cls/random.hpp"

namespace cls {
namespace {

// FNR by definition, counting voxels one by one.
double brute_fnr(const std::vector<float>& lesion, double t) {
    if (lesion.empty()) return 0.0;
    const auto missed = std::count_if(lesion.begin(), lesion.end(), [t](float p) { return p < t; });
    return static_cast<double>(missed) / static_cast<double>(lesion.size());
}

LesionScores make_case(std::vector<float> lesion, std::string name = "case") {
    std::sort(lesion.begin(), lesion.end());
    return {std::move(name), lesion.size() * 10, std::move(lesion)};
}

std::vector<float> random_lesion(Random& rng, std::size_t m, bool coarse) {
    std::vector<float> values(m);
    for (float& v : values) {
        v = coarse ? static_cast<float>(rng.below(9)) / 8.0f : static_cast<float>(rng.uniform());
    }
    return values;
}

TEST(CriticalThreshold, IsTheLargestThresholdWithFnrAtMostEpsilon) {
    Random rng(7);
    for (int trial = 0; trial < 400; ++trial) {
        const std::size_t m = 1 + rng.below(trial % 4 == 0 ? 3 : 60);
        const bool coarse = trial % 2 == 0;  // coarse values make heavy ties
        const LesionScores c = make_case(random_lesion(rng, m, coarse));
        for (double epsilon : {0.0, 0.05, 0.1, 0.25, 0.5, 0.75, 0.999}) {
            const double t = critical_threshold(c.sorted_lesion_probabilities, epsilon);
            const std::vector<float>& p = c.sorted_lesion_probabilities;
            if (t == kInfinity) {
                EXPECT_LE(brute_fnr(p, kInfinity), epsilon);  // only possible when nothing counts
                continue;
            }
            EXPECT_LE(brute_fnr(p, t), epsilon) << "m=" << m << " eps=" << epsilon;
            // Just above t the FNR exceeds epsilon: t is the largest admissible threshold.
            const double above = std::nextafter(static_cast<float>(t), 2.0f);
            EXPECT_GT(brute_fnr(p, above), epsilon) << "m=" << m << " eps=" << epsilon;
            // It is one of the case's own values, never a grid point.
            EXPECT_TRUE(std::binary_search(p.begin(), p.end(), static_cast<float>(t)));
            EXPECT_DOUBLE_EQ(false_negative_rate(p, t), brute_fnr(p, t));
        }
    }
}

TEST(CriticalThreshold, HandlesTiesOneVoxelLesionsAndEmptyMasks) {
    const std::vector<float> ties{0.2f, 0.4f, 0.4f, 0.4f, 0.9f};
    // epsilon 0.2 allows one miss: t = 0.4 misses only 0.2; above 0.4 it misses four.
    EXPECT_EQ(critical_threshold(ties, 0.2), 0.4f);
    EXPECT_EQ(critical_threshold(ties, 0.79), 0.4f);
    EXPECT_EQ(critical_threshold(ties, 0.8), 0.9f);
    EXPECT_EQ(critical_threshold(std::vector<float>{0.3f}, 0.0), 0.3f);
    EXPECT_EQ(critical_threshold(std::vector<float>{0.3f}, 0.99), 0.3f);
    EXPECT_EQ(critical_threshold(std::vector<float>{}, 0.1), kInfinity);
    EXPECT_EQ(critical_threshold(std::vector<float>{0.0f, 0.0f}, 0.1), 0.0f);
}

TEST(DecimalProducts, ReadUserDecimalsExactly) {
    EXPECT_EQ(floor_of_product(0.29, 100), 29u);  // 28.999999999999996 in binary
    EXPECT_EQ(floor_of_product(0.1, 30), 3u);
    EXPECT_EQ(floor_of_product(0.3, 10), 3u);
    EXPECT_EQ(floor_of_product(0.1, 9), 0u);
    EXPECT_EQ(conformal_rank(9, 0.1), 1u);
    EXPECT_EQ(conformal_rank(8, 0.1), 0u);
    EXPECT_EQ(conformal_rank(99, 0.29), 29u);
    EXPECT_EQ(minimum_calibration_cases(0.1), 9u);
    EXPECT_EQ(minimum_calibration_cases(0.05), 19u);
    EXPECT_EQ(minimum_calibration_cases(0.3), 3u);  // 4 * 0.3 = 1.2
    EXPECT_EQ(minimum_calibration_cases(0.5), 1u);
}

TEST(Calibrate, ClsTakesTheKthSmallestCriticalThreshold) {
    Random rng(11);
    std::vector<LesionScores> cases;
    for (int i = 0; i < 19; ++i)
        cases.push_back(make_case(random_lesion(rng, 5 + rng.below(40), false)));
    const CalibrationSettings settings{.method = Method::cls, .epsilon = 0.1, .alpha = 0.2};
    auto result = calibrate(cases, settings);
    ASSERT_TRUE(result) << result.error().message;
    EXPECT_EQ(result->n, 19u);
    EXPECT_EQ(result->k, 4u);  // floor(20 * 0.2)
    std::vector<double> t;
    for (const LesionScores& c : cases)
        t.push_back(critical_threshold(c.sorted_lesion_probabilities, 0.1));
    std::sort(t.begin(), t.end());
    EXPECT_EQ(result->threshold, t[3]);
    // Exactly k - 1 = 3 calibration cases would violate FNR <= epsilon at tau (no ties here).
    const auto violations = std::count_if(cases.begin(), cases.end(), [&](const LesionScores& c) {
        return brute_fnr(c.sorted_lesion_probabilities, result->threshold) > 0.1;
    });
    EXPECT_EQ(violations, 3);
}

TEST(Calibrate, RefusesTooFewCasesNamingTheMinimum) {
    std::vector<LesionScores> cases(8, make_case({0.5f, 0.6f}));
    auto result = calibrate(cases, {.method = Method::cls, .epsilon = 0.1, .alpha = 0.1});
    ASSERT_FALSE(result);
    EXPECT_NE(result.error().message.find("at least 9 calibration cases"), std::string::npos)
        << result.error().message;
}

TEST(Calibrate, EmptyMaskPolicies) {
    std::vector<LesionScores> cases;
    for (int i = 0; i < 6; ++i) cases.push_back(make_case({}, "empty"));
    for (float v : {0.1f, 0.2f, 0.3f, 0.4f}) cases.push_back(make_case({v, 0.9f}));

    auto satisfied = calibrate(cases, {.method = Method::cls, .epsilon = 0.0, .alpha = 0.5});
    ASSERT_TRUE(satisfied);
    EXPECT_EQ(satisfied->n, 10u);
    EXPECT_EQ(satisfied->empty_mask_count, 6u);
    EXPECT_EQ(satisfied->k, 5u);                 // floor(11 * 0.5)
    EXPECT_EQ(satisfied->threshold, kInfinity);  // six t_i = +inf fill ranks 5..10

    auto excluded = calibrate(cases, {.method = Method::cls,
                                      .epsilon = 0.0,
                                      .alpha = 0.5,
                                      .empty_masks = EmptyMaskPolicy::exclude});
    ASSERT_TRUE(excluded);
    EXPECT_EQ(excluded->n, 4u);
    EXPECT_EQ(excluded->empty_mask_count, 6u);
    EXPECT_EQ(excluded->k, 2u);
    EXPECT_EQ(excluded->threshold, 0.2f);
    EXPECT_EQ(std::count_if(excluded->cases.begin(), excluded->cases.end(),
                            [](const CaseCalibration& c) { return c.excluded; }),
              6);
}

TEST(Calibrate, AllEmptySets) {
    std::vector<LesionScores> cases(10, make_case({}));
    auto satisfied = calibrate(cases, {.method = Method::cls, .epsilon = 0.1, .alpha = 0.1});
    ASSERT_TRUE(satisfied);
    EXPECT_EQ(satisfied->threshold, kInfinity);
    auto excluded = calibrate(cases, {.method = Method::cls,
                                      .epsilon = 0.1,
                                      .alpha = 0.1,
                                      .empty_masks = EmptyMaskPolicy::exclude});
    ASSERT_FALSE(excluded);
    EXPECT_NE(excluded.error().message.find("excluding 10 empty masks"), std::string::npos)
        << excluded.error().message;
}

TEST(Calibrate, FixedReturnsItsThreshold) {
    std::vector<LesionScores> cases(3, make_case({0.2f}));
    auto result = calibrate(cases, {.method = Method::fixed, .fixed_threshold = 0.35});
    ASSERT_TRUE(result);
    EXPECT_EQ(result->threshold, 0.35);
}

TEST(Calibrate, RejectsSettingsOutOfRange) {
    std::vector<LesionScores> cases(30, make_case({0.2f}));
    for (CalibrationSettings bad :
         {CalibrationSettings{.epsilon = 1.0}, CalibrationSettings{.epsilon = -0.1},
          CalibrationSettings{.alpha = 0.0}, CalibrationSettings{.alpha = 1.0},
          CalibrationSettings{.epsilon = std::nan("")},
          CalibrationSettings{.method = Method::fixed, .fixed_threshold = 1.5}}) {
        EXPECT_FALSE(calibrate(cases, bad));
    }
}

// CRC by brute force: every case value (and +inf) is a candidate; FNR by counting.
double brute_crc(const std::vector<LesionScores>& cases, double epsilon) {
    std::vector<double> candidates{kInfinity};
    for (const LesionScores& c : cases)
        candidates.insert(candidates.end(), c.sorted_lesion_probabilities.begin(),
                          c.sorted_lesion_probabilities.end());
    const double n = static_cast<double>(cases.size());
    double best = -kInfinity;
    for (double t : candidates) {
        double sum = 0.0;
        for (const LesionScores& c : cases) sum += brute_fnr(c.sorted_lesion_probabilities, t);
        if (n / (n + 1) * (sum / n) + 1 / (n + 1) <= epsilon + 1e-12) best = std::max(best, t);
    }
    return best;
}

TEST(Crc, MatchesBruteForceOnTheBreakpoints) {
    Random rng(5);
    for (int trial = 0; trial < 200; ++trial) {
        std::vector<LesionScores> cases;
        const std::size_t n = 4 + rng.below(30);
        for (std::size_t i = 0; i < n; ++i) {
            cases.push_back(make_case(
                random_lesion(rng, rng.below(5) == 0 ? 0 : 1 + rng.below(20), trial % 2 == 0)));
        }
        for (double epsilon : {0.1, 0.2, 0.3, 0.5}) {
            auto tau = crc_threshold(cases, epsilon);
            if (1.0 / static_cast<double>(n + 1) > epsilon) {
                EXPECT_FALSE(tau);
                continue;
            }
            ASSERT_TRUE(tau) << tau.error().message;
            EXPECT_EQ(*tau, brute_crc(cases, epsilon)) << "trial " << trial << " eps " << epsilon;
        }
    }
}

TEST(Crc, ARiskCurveBuiltOnceAnswersEveryEpsilonAsTheSweepDoes) {
    Random rng(9);
    std::vector<LesionScores> cases;
    for (int i = 0; i < 40; ++i) {
        cases.push_back(
            make_case(random_lesion(rng, i % 7 == 0 ? 0 : 1 + rng.below(30), i % 3 == 0)));
    }
    const CrcRiskCurve curve(cases);
    for (double epsilon = 0.03; epsilon < 0.9; epsilon += 0.01) {
        auto from_curve = curve.threshold(epsilon, cases.size());
        ASSERT_TRUE(from_curve) << epsilon;
        EXPECT_EQ(*from_curve, brute_crc(cases, epsilon)) << epsilon;
        const CalibrationSettings settings{.method = Method::crc, .epsilon = epsilon};
        EXPECT_EQ(calibrate(cases, settings, &curve)->threshold,
                  calibrate(cases, settings)->threshold);
    }
    // Excluding empty masks changes only n: the curve over all cases still serves.
    const CalibrationSettings exclude{
        .method = Method::crc, .epsilon = 0.2, .empty_masks = EmptyMaskPolicy::exclude};
    EXPECT_EQ(calibrate(cases, exclude, &curve)->threshold, calibrate(cases, exclude)->threshold);
}

TEST(Crc, SmallestValueAlwaysQualifiesAndRefusalNamesTheMinimum) {
    std::vector<LesionScores> cases(4, make_case({0.6f, 0.7f}));
    auto tau = crc_threshold(cases, 0.2);  // 1/5 <= 0.2: below every value the risk is 1/5
    ASSERT_TRUE(tau);
    EXPECT_EQ(*tau, 0.6f);
    auto refused = crc_threshold(cases, 0.1);
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("at least 9"), std::string::npos)
        << refused.error().message;
}

TEST(LesionScores, CollectsSortedLesionValuesInOnePass) {
    const std::vector<float> p{0.9f, 0.1f, 0.5f, 0.3f, 0.7f};
    const std::vector<float> label{1, 0, 1, 0, 2};  // any non-zero label is lesion
    auto scores = collect_lesion_scores("c", p, label);
    ASSERT_TRUE(scores);
    EXPECT_EQ(scores->voxel_count, 5u);
    EXPECT_EQ(scores->sorted_lesion_probabilities, (std::vector<float>{0.5f, 0.7f, 0.9f}));
}

TEST(LesionScores, LargeCasesSortExactlyLikeStdSort) {
    // Large enough for the radix path, with ties, both ends, subnormals and negative zero.
    Random rng(3);
    std::vector<float> p(50000), label(50000);
    for (std::size_t i = 0; i < p.size(); ++i) {
        const std::uint64_t kind = rng.below(6);
        p[i] = kind == 0   ? 0.0f
               : kind == 1 ? 1.0f
               : kind == 2 ? -0.0f
               : kind == 3
                   ? std::numeric_limits<float>::denorm_min() * static_cast<float>(rng.below(5))
                   : static_cast<float>(rng.uniform());
        label[i] = static_cast<float>(rng.below(3) != 0);
    }
    auto scores = collect_lesion_scores("big", p, label);
    ASSERT_TRUE(scores);
    std::vector<float> expected;
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (label[i] != 0.0f) expected.push_back(p[i]);
    }
    std::sort(expected.begin(), expected.end());
    ASSERT_EQ(scores->sorted_lesion_probabilities.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        ASSERT_EQ(scores->sorted_lesion_probabilities[i], expected[i]) << i;  // -0 == +0
        ASSERT_FALSE(std::signbit(scores->sorted_lesion_probabilities[i])) << i;
    }
}

TEST(LesionScores, RefusesBadProbabilitiesWithTheirCount) {
    const std::vector<float> label{1, 1, 1, 1};
    auto nan = collect_lesion_scores(
        "c7", std::vector<float>{0.1f, std::nanf(""), std::nanf(""), 0.2f}, label);
    ASSERT_FALSE(nan);
    EXPECT_NE(nan.error().message.find("c7: probability map has 2 NaN or infinite values"),
              std::string::npos)
        << nan.error().message;
    auto range = collect_lesion_scores("c8", std::vector<float>{0.1f, 1.5f, -0.2f, 0.2f}, label);
    ASSERT_FALSE(range);
    EXPECT_NE(range.error().message.find("2 values outside [0, 1]"), std::string::npos);
    auto shape = collect_lesion_scores("c9", std::vector<float>{0.1f}, label);
    ASSERT_FALSE(shape);
    EXPECT_NE(shape.error().message.find("1 voxels but its label has 4"), std::string::npos);
}

TEST(Labels, BinaryMeansZeroAndOneLesionValue) {
    EXPECT_TRUE(check_label(std::vector<float>{0, 1, 1, 0}));
    EXPECT_TRUE(check_label(std::vector<float>{0, 255, 0}));  // masks written as 0/255
    EXPECT_TRUE(check_label(std::vector<float>{0, 0}));       // an empty mask
    EXPECT_TRUE(check_label(std::vector<float>{-0.0f, 1}));
    EXPECT_TRUE(check_label(std::vector<float>{}));

    auto classes = check_label(std::vector<float>{0, 4, 1, 2, 1, 0});
    ASSERT_FALSE(classes);
    EXPECT_EQ(classes.error().message,
              "label is not binary: besides 0 it holds the values 1, 2, 4; say which are lesion "
              "with --lesion-labels (e.g. --lesion-labels 1,2,4, or nonzero) or the app's "
              "lesion-labels setting");
    auto soft = check_label(std::vector<float>{0.75f, 0.5f, 1, 0.25f, 0.125f, 2, 3, 0});
    ASSERT_FALSE(soft);
    // Fractions (a label resampled with interpolation) get the cause, not --lesion-labels,
    // which reads whole numbers only.
    EXPECT_EQ(soft.error().message,
              "label is not binary: besides 0 it holds the values 0.125, 0.25, 0.5, 0.75, 1 and "
              "more, not all whole numbers; was it resampled with interpolation? Resample labels "
              "with nearest neighbour");
    auto nan = check_label(std::vector<float>{std::nanf(""), 1, std::nanf("")});
    ASSERT_FALSE(nan);
    EXPECT_EQ(nan.error().message,
              "label has 2 NaN or infinite values; a lesion label holds 0 for background and one "
              "lesion value");
    auto first_nan = check_label(std::vector<float>{std::nanf("")});
    ASSERT_FALSE(first_nan);
    EXPECT_NE(first_nan.error().message.find("1 NaN or infinite value;"), std::string::npos);
}

TEST(PredictMask, IncludesTheThresholdItself) {
    const std::vector<float> p{0.2f, 0.5f, 0.7f};
    EXPECT_EQ(predict_mask(p, 0.5f), (std::vector<std::uint8_t>{0, 1, 1}));
    EXPECT_EQ(predict_mask(p, kInfinity), (std::vector<std::uint8_t>{0, 0, 0}));
}

TEST(Parsing, MethodsAndPolicies) {
    EXPECT_EQ(*parse_method("crc"), Method::crc);
    EXPECT_FALSE(parse_method("CLS "));
    EXPECT_EQ(*parse_empty_mask_policy("exclude"), EmptyMaskPolicy::exclude);
    EXPECT_FALSE(parse_empty_mask_policy("ignore"));
}

}  // namespace
}  // namespace cls
