// Evaluation over random splits: every split's thresholds against calibrate(), crc_threshold()
// and pac_threshold() run on that split's calibration cases, the metrics against their
// definitions, and the statistical suite (the guarantees hold on data whose answer is known).
// The last test pins exact outputs for a fixed seed, for the WebAssembly build to compare.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "cls/evaluation.hpp"
#include "cls/pac.hpp"
#include "synthetic_cases.hpp"

namespace cls {
namespace {

using testing::synthetic_cases;
using testing::SyntheticShape;

EvaluationSet make_set(std::vector<EvaluationCase> cases,
                       EmptyMaskPolicy policy = EmptyMaskPolicy::satisfied) {
    auto set = EvaluationSet::create(std::move(cases), policy);
    EXPECT_TRUE(set) << set.error().message;
    return *set;
}

EvaluationReport run(const EvaluationSet& set, const EvaluationSettings& settings) {
    auto report = evaluate(set, settings);
    EXPECT_TRUE(report) << report.error().message;
    return *report;
}

const std::vector<EvaluationMethod> kAllMethods = {
    EvaluationMethod::fixed,      EvaluationMethod::cls, EvaluationMethod::crc,
    EvaluationMethod::lesion_cls, EvaluationMethod::pac, EvaluationMethod::mondrian};

// Coarse probabilities (ties everywhere) and empty masks: the hard cases for exactness.
std::vector<EvaluationCase> coarse_cases(std::uint64_t seed, std::size_t count) {
    std::vector<EvaluationCase> cases =
        synthetic_cases(seed, count, {.max_lesion_voxels = 30, .empty_mask_share = 0.2});
    for (EvaluationCase& c : cases) {
        for (float& p : c.lesion.sorted_lesion_probabilities) p = std::round(p * 8.0f) / 8.0f;
        for (float& p : c.sorted_lesion_maxima) p = std::round(p * 8.0f) / 8.0f;
    }
    return cases;
}

TEST(RandomSplit, IsASortedPartitionAndDeterministic) {
    Random a(5), b(5);
    for (int r = 0; r < 20; ++r) {
        const Split s = random_split(30, 12, a);
        const Split t = random_split(30, 12, b);
        EXPECT_EQ(s.calibration, t.calibration);
        EXPECT_EQ(s.test, t.test);
        EXPECT_EQ(s.calibration.size(), 12u);
        EXPECT_EQ(s.test.size(), 18u);
        EXPECT_TRUE(std::is_sorted(s.calibration.begin(), s.calibration.end()));
        EXPECT_TRUE(std::is_sorted(s.test.begin(), s.test.end()));
        std::vector<std::size_t> all = s.calibration;
        all.insert(all.end(), s.test.begin(), s.test.end());
        std::sort(all.begin(), all.end());
        for (std::size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], i);
    }
}

TEST(RandomSplit, EveryCaseCalibratesEquallyOften) {
    Random rng(8);
    std::vector<int> count(10, 0);
    constexpr int kSplits = 20000;
    for (int r = 0; r < kSplits; ++r) {
        for (std::size_t i : random_split(10, 3, rng).calibration) ++count[i];
    }
    // Each case calibrates with probability 0.3: 6000 +- 4 sigma (sigma = 64.8).
    for (int c : count) EXPECT_NEAR(c, 6000, 260);
}

TEST(Evaluation, EverySplitsThresholdsEqualCalibratingThatSplit) {
    const EvaluationSet set = make_set(coarse_cases(17, 80));
    EvaluationSettings settings;
    settings.methods = kAllMethods;
    settings.epsilon = 0.25;
    settings.alpha = 0.2;
    settings.delta = 0.2;
    settings.splits = 40;
    settings.seed = 99;
    settings.mondrian = *parse_mondrian_rule("lesion-voxels:12");
    const EvaluationReport report = run(set, settings);
    ASSERT_EQ(report.methods.size(), kAllMethods.size());
    EXPECT_EQ(report.calibration_cases, 40u);

    Random rng(settings.seed);
    std::vector<std::size_t> group_split_index(2, 0);
    for (std::size_t r = 0; r < settings.splits; ++r) {
        const Split split = random_split(set.size(), report.calibration_cases, rng);
        std::vector<LesionScores> calibration, lesion_level;
        std::vector<std::vector<LesionScores>> by_group(2);
        for (std::size_t i : split.calibration) {
            const EvaluationCase& c = set.cases()[i];
            calibration.push_back(c.lesion);
            lesion_level.push_back({c.name(), c.voxels(), c.sorted_lesion_maxima});
            by_group[mondrian_group(*settings.mondrian, c)].push_back(c.lesion);
        }
        CalibrationSettings cls_settings{
            .method = Method::cls, .epsilon = settings.epsilon, .alpha = settings.alpha};
        const double cls = calibrate(calibration, cls_settings)->threshold;
        const double lesion_cls = calibrate(lesion_level, cls_settings)->threshold;
        const double crc = *crc_threshold(calibration, settings.epsilon);
        const double pac = *pac_threshold(calibration, settings.epsilon, settings.delta);
        EXPECT_EQ(report.find(EvaluationMethod::fixed)->splits[r].threshold, 0.5);
        EXPECT_EQ(report.find(EvaluationMethod::cls)->splits[r].threshold, cls) << r;
        EXPECT_EQ(report.find(EvaluationMethod::lesion_cls)->splits[r].threshold, lesion_cls);
        EXPECT_EQ(report.find(EvaluationMethod::crc)->splits[r].threshold, crc) << r;
        EXPECT_EQ(report.find(EvaluationMethod::pac)->splits[r].threshold, pac) << r;

        // Mondrian: each group calibrated alone, or every voxel predicted when k = 0.
        const MethodReport& mondrian = *report.find(EvaluationMethod::mondrian);
        for (std::size_t g = 0; g < 2; ++g) {
            auto group = calibrate(by_group[g], cls_settings);
            const double expected = group ? group->threshold : 0.0;
            const bool has_test = std::any_of(split.test.begin(), split.test.end(), [&](auto i) {
                return mondrian_group(*settings.mondrian, set.cases()[i]) == g;
            });
            if (!has_test) continue;
            EXPECT_EQ(mondrian.groups[g].splits[group_split_index[g]++].threshold, expected);
        }

        // Metrics by their definitions, from the test cases.
        for (const MethodReport& method : report.methods) {
            const SplitMetrics& m = method.splits[r];
            std::size_t covered = 0, lesion_cases = 0, missed = 0, lesions = 0, detected = 0;
            double fnr = 0.0;
            for (std::size_t i : split.test) {
                const EvaluationCase& c = set.cases()[i];
                double t = m.threshold;
                if (method.method == EvaluationMethod::mondrian) {
                    auto group =
                        calibrate(by_group[mondrian_group(*settings.mondrian, c)], cls_settings);
                    t = group ? group->threshold : 0.0;
                }
                const CaseOutcome o = outcome_at(c, t);
                covered += o.fnr <= settings.epsilon;
                lesion_cases += !c.empty_mask();
                missed += o.missed_lesion;
                lesions += c.lesions();
                detected += o.lesions_detected;
                fnr += o.fnr;
            }
            const double n_test = static_cast<double>(split.test.size());
            EXPECT_EQ(m.coverage, static_cast<double>(covered) / n_test);
            EXPECT_EQ(m.fnr, fnr / n_test);
            EXPECT_EQ(m.missed_lesion_rate,
                      static_cast<double>(missed) / static_cast<double>(lesion_cases));
            EXPECT_EQ(m.lesion_detection_rate,
                      static_cast<double>(detected) / static_cast<double>(lesions));
            EXPECT_EQ(m.risk_violation, m.fnr > settings.epsilon ? 1.0 : 0.0);
        }
    }
}

TEST(Evaluation, StepByStepEqualsOneCall) {
    const EvaluationSet set = make_set(coarse_cases(3, 50));
    EvaluationSettings settings;
    settings.splits = 15;
    settings.alpha = 0.2;
    auto evaluation = Evaluation::start(set, settings);
    ASSERT_TRUE(evaluation);
    while (!evaluation->done()) evaluation->run_split();
    evaluation->run_split();  // past the end: nothing
    const EvaluationReport whole = run(set, settings);
    for (std::size_t m = 0; m < whole.methods.size(); ++m) {
        ASSERT_EQ(evaluation->report().methods[m].splits.size(), 15u);
        for (std::size_t r = 0; r < 15; ++r) {
            EXPECT_EQ(evaluation->report().methods[m].splits[r].coverage,
                      whole.methods[m].splits[r].coverage);
        }
    }
}

TEST(Evaluation, ExcludedEmptyMasksLeaveThePool) {
    std::vector<EvaluationCase> cases = coarse_cases(4, 60);
    const auto empty = static_cast<std::size_t>(std::count_if(
        cases.begin(), cases.end(), [](const EvaluationCase& c) { return c.empty_mask(); }));
    ASSERT_GT(empty, 0u);
    const EvaluationSet set = make_set(std::move(cases), EmptyMaskPolicy::exclude);
    EXPECT_EQ(set.size(), 60 - empty);
    EXPECT_EQ(set.excluded_empty_masks(), empty);
    EXPECT_EQ(set.empty_masks(), 0u);
    std::vector<EvaluationCase> all_empty = synthetic_cases(1, 5, {.empty_mask_share = 1.0});
    auto none = EvaluationSet::create(std::move(all_empty), EmptyMaskPolicy::exclude);
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().message, "every case has an empty mask, and empty masks are excluded");
}

TEST(Evaluation, RefusesSettingsItCannotHonour) {
    const EvaluationSet set = make_set(synthetic_cases(1, 40));
    const auto message = [&](EvaluationSettings s) {
        auto r = evaluate(set, s);
        return r ? std::string("accepted") : r.error().message;
    };
    EvaluationSettings s;
    s.alpha = 0.01;
    EXPECT_EQ(message(s),
              "cls with alpha = 0.01 needs at least 99 calibration cases (k = floor((n+1)*alpha) "
              "must be >= 1); a calibration share of 0.5 of 40 cases gives 20");
    s = {};
    s.calibration_fraction = 0.01;
    EXPECT_EQ(message(s),
              "a calibration share of 0.01 of 40 cases gives 0 calibration cases, leaving no "
              "calibration case");
    s = {};
    s.methods = {EvaluationMethod::mondrian};
    EXPECT_EQ(message(s), "the mondrian method needs a grouping rule");
    s = {};
    s.methods = {EvaluationMethod::pac};
    s.epsilon = 0.02;
    EXPECT_NE(message(s).find("pac: PAC with epsilon = 0.02 and delta = 0.1 needs at least 114"),
              std::string::npos);
    s = {};
    s.methods = {EvaluationMethod::crc};
    s.epsilon = 0.01;
    EXPECT_EQ(message(s),
              "crc: CRC needs 1/(n+1) <= epsilon, i.e. at least 99 calibration cases for "
              "epsilon = 0.01, and has 20");
    s = {};
    s.splits = 0;
    EXPECT_EQ(message(s), "the number of splits must be from 1 to 1000000, got 0");
    s = {};
    s.methods = {EvaluationMethod::cls, EvaluationMethod::cls};
    EXPECT_EQ(message(s), "method 'cls' is listed twice");
    EXPECT_FALSE(parse_evaluation_methods("cls,cls"));
    EXPECT_EQ(parse_evaluation_methods("cls,fixd").error().message,
              "unknown method 'fixd' (expected fixed, cls, crc, lesion-cls, pac or mondrian)");
}

TEST(Evaluation, MemoryBudgetRefusesBeforeTheLimit) {
    const std::vector<EvaluationCase> cases = synthetic_cases(2, 10);
    MemoryBudget budget(5 * MemoryBudget::cost(cases[0]) / 2);
    EXPECT_TRUE(budget.add(cases[0]));
    EXPECT_TRUE(budget.add(cases[0]));
    auto third = budget.add(cases[0]);
    ASSERT_FALSE(third);
    EXPECT_NE(third.error().message.find("case_0: evaluation would need more than"),
              std::string::npos);
    EXPECT_NE(third.error().message.find("evaluate fewer cases"), std::string::npos);
}

TEST(Summary, MatchesNumpy) {
    // numpy: mean 2.5, std(ddof=1) 1.2909944487358056, percentile 5 -> 1.15, 95 -> 3.85.
    const Summary s = summarize(std::vector<double>{4, 1, 3, 2});
    EXPECT_DOUBLE_EQ(s.mean, 2.5);
    EXPECT_DOUBLE_EQ(s.std, 1.2909944487358056);
    EXPECT_DOUBLE_EQ(s.p5, 1.15);
    EXPECT_DOUBLE_EQ(s.p95, 3.85);
    const Summary one = summarize(std::vector<double>{0.25});
    EXPECT_EQ(one.std, 0.0);
    EXPECT_EQ(one.p95, 0.25);
    const Summary with_inf = summarize(std::vector<double>{0.2, kInfinity});
    EXPECT_EQ(with_inf.mean, kInfinity);
    EXPECT_EQ(with_inf.p5, kInfinity);
    EXPECT_TRUE(std::isnan(summarize(std::vector<double>{NAN, 1.0}).mean));
}

// --- The statistical suite ---------------------------------------------------------------
// 200 exchangeable cases with continuous probabilities, 100 calibrating, 1,000 splits. Given
// the pool, a random split makes the calibration and test cases exchangeable, so a test case
// is covered with probability exactly 1 - k/(n+1), k = floor((n+1) alpha), which lies in
// [1 - alpha, 1 - alpha + 1/(n+1)). The mean over splits is checked against that interval,
// and against the exact value, within 4 Monte Carlo standard errors (the standard deviation of
// the split coverages over sqrt(R): the cases of one split share a threshold, so they are not
// independent draws and a plain binomial error would be too small).

constexpr std::size_t kPool = 200;
constexpr std::size_t kSplits = 1000;

struct Check {
    double mean;
    double standard_error;
};

Check mean_over_splits(const std::vector<SplitMetrics>& splits, double SplitMetrics::*field) {
    const Summary s = summarize(splits, field);
    return {s.mean, s.std / std::sqrt(static_cast<double>(splits.size()))};
}

TEST(EvaluationStatistics, CoverageLiesInTheConformalInterval) {
    const EvaluationSet set = make_set(synthetic_cases(2026, kPool));
    for (double epsilon : {0.1, 0.3, 0.5}) {
        for (double alpha : {0.05, 0.1, 0.2, 0.3}) {
            EvaluationSettings settings;
            settings.methods = {EvaluationMethod::cls, EvaluationMethod::lesion_cls,
                                EvaluationMethod::crc};
            settings.epsilon = epsilon;
            settings.alpha = alpha;
            settings.splits = kSplits;
            settings.seed = 7;
            const EvaluationReport report = run(set, settings);
            const std::size_t n = report.calibration_cases;
            const double k = static_cast<double>(conformal_rank(n, alpha));
            const double exact = 1.0 - k / static_cast<double>(n + 1);
            const double upper = 1.0 - alpha + 1.0 / static_cast<double>(n + 1);
            const Check cls = mean_over_splits(report.find(EvaluationMethod::cls)->splits,
                                               &SplitMetrics::coverage);
            const Check lesion = mean_over_splits(report.find(EvaluationMethod::lesion_cls)->splits,
                                                  &SplitMetrics::lesion_coverage);
            for (const Check& c : {cls, lesion}) {
                EXPECT_GE(c.mean, 1.0 - alpha - 4 * c.standard_error);
                EXPECT_LE(c.mean, upper + 4 * c.standard_error);
                EXPECT_NEAR(c.mean, exact, 4 * c.standard_error);
            }
            const Check crc =
                mean_over_splits(report.find(EvaluationMethod::crc)->splits, &SplitMetrics::fnr);
            EXPECT_LE(crc.mean, epsilon + 4 * crc.standard_error);
            std::printf(
                "eps=%.1f alpha=%.2f: cls coverage %.4f (se %.4f), lesion-cls %.4f (se %.4f), "
                "exact %.4f, interval [%.4f, %.4f]; crc mean FNR %.4f (se %.4f)\n",
                epsilon, alpha, cls.mean, cls.standard_error, lesion.mean, lesion.standard_error,
                exact, 1.0 - alpha, upper, crc.mean, crc.standard_error);
        }
    }
}

TEST(EvaluationStatistics, MondrianCoversEachGroupAndEmptyMasksOnlyHelp) {
    // Each group is calibrated alone, so each has its own 1 - alpha guarantee; a quarter of
    // the cases have empty masks (t = +inf, always covered), which can only raise coverage.
    const EvaluationSet set = make_set(synthetic_cases(31, kPool, {.empty_mask_share = 0.25}));
    for (double alpha : {0.1, 0.2}) {
        EvaluationSettings settings;
        settings.methods = {EvaluationMethod::cls, EvaluationMethod::mondrian};
        settings.epsilon = 0.2;
        settings.alpha = alpha;
        settings.splits = kSplits;
        settings.mondrian = *parse_mondrian_rule("lesion-voxels:30");
        const EvaluationReport report = run(set, settings);
        const Check cls =
            mean_over_splits(report.find(EvaluationMethod::cls)->splits, &SplitMetrics::coverage);
        EXPECT_GE(cls.mean, 1.0 - alpha - 4 * cls.standard_error);
        for (const GroupReport& group : report.find(EvaluationMethod::mondrian)->groups) {
            const Check c = mean_over_splits(group.splits, &SplitMetrics::coverage);
            EXPECT_GE(c.mean, 1.0 - alpha - 4 * c.standard_error) << group.name;
            std::printf("mondrian alpha=%.1f %s: coverage %.4f (se %.4f), %zu fallback splits\n",
                        alpha, group.name.c_str(), c.mean, c.standard_error, group.fallback_splits);
        }
    }
}

// --- Pinned outputs ------------------------------------------------------------------------
// Exact values of this build for a fixed seed, for the WebAssembly build of the same test to
// reproduce bit for bit (they were printed by this test, not derived independently: the
// independent checks are the tests above and tests/cli/test_cli.py).

TEST(EvaluationPinned, FixedSeedGivesTheseNumbers) {
    const EvaluationSet set = make_set(coarse_cases(1234, 60));
    EvaluationSettings settings;
    settings.methods = kAllMethods;
    settings.epsilon = 0.3;
    settings.alpha = 0.2;
    settings.delta = 0.2;
    settings.splits = 25;
    settings.seed = 42;
    settings.mondrian = *parse_mondrian_rule("lesion-voxels:12");
    const EvaluationReport report = run(set, settings);
    Random rng(42);
    const Split first = random_split(set.size(), report.calibration_cases, rng);
    std::string calibration;
    for (std::size_t i = 0; i < 8; ++i) calibration += std::to_string(first.calibration[i]) + " ";
    std::string text;
    for (const MethodReport& m : report.methods) {
        char line[256];
        std::snprintf(
            line, sizeof line, "%s %.17g %.17g %.17g %.17g\n",
            std::string(to_string(m.method)).c_str(),
            summarize(m.splits, &SplitMetrics::coverage).mean,
            summarize(m.splits, &SplitMetrics::fnr).mean,
            summarize(m.splits, &SplitMetrics::dice).p95,
            summarize(m.method == EvaluationMethod::mondrian ? m.groups[0].splits : m.splits,
                      &SplitMetrics::threshold)
                .mean);
        text += line;
    }
    std::printf("calibration %s\n%s", calibration.c_str(), text.c_str());
    EXPECT_EQ(calibration, "0 1 2 4 8 9 10 12 ");
    EXPECT_EQ(text,
              "fixed 0.20533333333333334 0.45470026197117319 0.19804846250597644 0.5\n"
              "cls 0.92666666666666642 0.10192182420148596 0.15912857730828286 0.13\n"
              "crc 0.67066666666666652 0.22910341413880586 0.17874213315503151 "
              "0.23999999999999999\n"
              "lesion-cls 0.21466666666666667 0.51280463609791627 0.21364928703787378 "
              "0.59499999999999997\n"
              "pac 0.94399999999999973 0.094940540174540913 0.15912857730828286 0.125\n"
              "mondrian 0.93866666666666665 0.10149003512403584 0.15820233609540821 0.105\n");
}

}  // namespace
}  // namespace cls
