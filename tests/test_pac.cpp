// The PAC (Hoeffding–Bentkus) threshold: its budget against the p-value it stands for, the
// threshold against a brute force over every breakpoint, and the guarantee itself on cases
// whose population risk is known in closed form.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>
#include <vector>

#include "cls/calibration.hpp"
#include "cls/pac.hpp"
#include "cls/random.hpp"

namespace cls {
namespace {

TEST(Pac, BudgetIsWhereThePValueCrossesDelta) {
    for (std::size_t n : {30u, 100u, 400u, 2000u}) {
        for (double epsilon : {0.05, 0.1, 0.3}) {
            for (double delta : {0.05, 0.1, 0.2}) {
                auto budget = hoeffding_bentkus_fnr_budget(n, epsilon, delta);
                if (!budget) {
                    EXPECT_LT(n, pac_minimum_calibration_cases(epsilon, delta));
                    continue;
                }
                const double nd = static_cast<double>(n);
                EXPECT_GE(*budget, 0.0);
                EXPECT_LT(*budget, epsilon * nd);
                EXPECT_LE(hoeffding_bentkus_p_value(*budget / nd, n, epsilon), delta * 1.000001);
                EXPECT_GT(hoeffding_bentkus_p_value((*budget + 0.01) / nd, n, epsilon), delta);
            }
        }
    }
}

TEST(Pac, MinimumCasesIsExact) {
    for (double epsilon : {0.05, 0.1, 0.2, 0.4}) {
        for (double delta : {0.01, 0.1, 0.3}) {
            const std::size_t n = pac_minimum_calibration_cases(epsilon, delta);
            EXPECT_TRUE(hoeffding_bentkus_fnr_budget(n, epsilon, delta));
            auto fewer = hoeffding_bentkus_fnr_budget(n - 1, epsilon, delta);
            ASSERT_FALSE(fewer);
            EXPECT_NE(fewer.error().message.find("needs at least " + std::to_string(n)),
                      std::string::npos);
        }
    }
    EXPECT_FALSE(hoeffding_bentkus_fnr_budget(100, 0.0, 0.1));
    EXPECT_FALSE(hoeffding_bentkus_fnr_budget(100, 0.1, 1.0));
}

LesionScores random_case(Random& rng, bool coarse) {
    LesionScores c{"c", 0, {}};
    const std::size_t m = rng.below(5) == 0 ? 0 : 1 + rng.below(25);
    for (std::size_t i = 0; i < m; ++i) {
        c.sorted_lesion_probabilities.push_back(coarse ? static_cast<float>(rng.below(9)) / 8.0f
                                                       : static_cast<float>(rng.uniform()));
    }
    std::sort(c.sorted_lesion_probabilities.begin(), c.sorted_lesion_probabilities.end());
    c.voxel_count = 10 * m + 1;
    return c;
}

TEST(Pac, ThresholdIsTheLargestCertifiedBreakpoint) {
    Random rng(21);
    for (int trial = 0; trial < 60; ++trial) {
        std::vector<LesionScores> cases;
        const std::size_t n = 40 + rng.below(80);
        for (std::size_t i = 0; i < n; ++i) cases.push_back(random_case(rng, trial % 2 == 0));
        const double epsilon = 0.15 + 0.05 * static_cast<double>(trial % 4);
        const double delta = 0.1;
        auto t = pac_threshold(cases, epsilon, delta);
        ASSERT_TRUE(t) << t.error().message;
        // Brute force: every breakpoint and +inf, certified iff its p-value is <= delta.
        std::vector<double> candidates = {kInfinity};
        for (const LesionScores& c : cases) {
            candidates.insert(candidates.end(), c.sorted_lesion_probabilities.begin(),
                              c.sorted_lesion_probabilities.end());
        }
        std::sort(candidates.begin(), candidates.end());
        double expected = candidates.front();
        for (double candidate : candidates) {
            double sum = 0.0;
            for (const LesionScores& c : cases) {
                sum += false_negative_rate(c.sorted_lesion_probabilities, candidate);
            }
            const double p = hoeffding_bentkus_p_value(sum / static_cast<double>(n), n, epsilon);
            if (p > delta) break;
            expected = candidate;
        }
        EXPECT_EQ(*t, expected) << "trial " << trial;
    }
}

// Cases with difficulty q ~ U(0, 0.5) and lesion probabilities q + (1 - q) u: FNR_i(t) has
// expectation P(p < t | q) whatever the case's size, so the population risk is
//   R(t) = 2 (Q + (1 - t) ln(1 - Q)),  Q = min(t, 0.5).
double population_risk(double t) {
    if (t >= 1.0) return 1.0;
    const double q = std::min(t, 0.5);
    return 2.0 * (q + (1.0 - t) * std::log(1.0 - q));
}

std::vector<LesionScores> draw_cases(Random& rng, std::size_t n) {
    std::vector<LesionScores> cases(n);
    for (LesionScores& c : cases) {
        const double q = rng.uniform(0.0, 0.5);
        const std::size_t m = 1 + rng.below(30);
        for (std::size_t i = 0; i < m; ++i) {
            c.sorted_lesion_probabilities.push_back(
                static_cast<float>(q + (1.0 - q) * rng.uniform()));
        }
        std::sort(c.sorted_lesion_probabilities.begin(), c.sorted_lesion_probabilities.end());
        c.voxel_count = 10 * m;
    }
    return cases;
}

TEST(PacStatistics, ViolationFrequencyIsAtMostDelta) {
    // Fresh calibration sets, each threshold judged by its true risk: a violation is
    // R(t) > epsilon. Trials are independent, so the count is Binomial(T, <= delta) and a
    // 4-sigma margin keeps this seeded test far from a chance failure.
    constexpr int kTrials = 1000;
    constexpr std::size_t kCases = 100;
    Random rng(2510);
    for (const auto& [epsilon, delta] : {std::pair{0.1, 0.1}, std::pair{0.2, 0.2}}) {
        {
            int pac_violations = 0;
            double crc_risk = 0.0, pac_threshold_sum = 0.0, crc_threshold_sum = 0.0;
            for (int trial = 0; trial < kTrials; ++trial) {
                const std::vector<LesionScores> cases = draw_cases(rng, kCases);
                auto pac = pac_threshold(cases, epsilon, delta);
                auto crc = crc_threshold(cases, epsilon);
                ASSERT_TRUE(pac && crc);
                pac_violations += population_risk(*pac) > epsilon;
                crc_risk += population_risk(*crc);
                pac_threshold_sum += *pac;
                crc_threshold_sum += *crc;
            }
            const double bound = delta * kTrials + 4.0 * std::sqrt(delta * (1 - delta) * kTrials);
            EXPECT_LE(pac_violations, bound) << "epsilon " << epsilon << " delta " << delta;
            // CRC promises E[R] <= epsilon on average over calibration sets; R(t) <= 1.
            EXPECT_LE(crc_risk / kTrials, epsilon + 4.0 * 0.5 / std::sqrt(kTrials));
            // The stronger promise costs a lower threshold (larger masks).
            EXPECT_LT(pac_threshold_sum, crc_threshold_sum);
            std::printf(
                "PAC eps=%.2f delta=%.2f: %d/%d calibration sets violate (bound %.0f); "
                "mean threshold %.4f vs CRC %.4f, CRC mean risk %.4f\n",
                epsilon, delta, pac_violations, kTrials, bound, pac_threshold_sum / kTrials,
                crc_threshold_sum / kTrials, crc_risk / kTrials);
        }
    }
}

}  // namespace
}  // namespace cls
