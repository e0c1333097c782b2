// A PAC (training-conditional) threshold for expected FNR, by risk-controlling prediction
// sets (Bates et al. 2021) with the Hoeffding–Bentkus bound, tested in the learn-then-test
// fixed sequence (Angelopoulos et al. 2021): with probability >= 1 - delta over the
// calibration set, E[FNR(t)] <= epsilon for the threshold t it returns. CRC promises the same
// expectation only on average over calibration sets; this holds for the set you have.
// The null "E[FNR(t)] > epsilon" is rejected when the Hoeffding–Bentkus p-value
//   min( exp(-n h(min(r, epsilon), epsilon)),  e * P(Binomial(n, epsilon) <= ceil(n r)) ),
//   h(a, b) = a ln(a/b) + (1-a) ln((1-a)/(1-b)),  r = mean_i FNR_i(t),
// is <= delta; FNR lies in [0, 1], which is all Bentkus's inequality needs. Both terms grow
// with r, so the certified thresholds are those whose FNR sum n r stays within one budget,
// and the threshold is found by the same exact sweep as CRC.
// [X] Hoeffding–Bentkus for expected FNR (a bounded, not binary, loss)
// [ ] Waudby-Smith–Ramdas betting bounds (tighter, but sequential and slower)
#pragma once

#include <cstddef>
#include <span>

#include "cls/calibration.hpp"
#include "cls/result.hpp"

namespace cls {

// The p-value above for a mean FNR `mean_risk` over n cases.
[[nodiscard]] double hoeffding_bentkus_p_value(double mean_risk, std::size_t n, double epsilon);

// The largest FNR sum n r whose p-value is <= delta. Refuses (naming the minimum number of
// cases) when even r = 0 is not certified, and epsilon or delta outside (0, 1).
[[nodiscard]] Result<double> hoeffding_bentkus_fnr_budget(std::size_t n, double epsilon,
                                                          double delta);

// The smallest n for which r = 0 is certified: (1 - epsilon)^n <= delta.
[[nodiscard]] std::size_t pac_minimum_calibration_cases(double epsilon, double delta);

// The largest t whose FNR sum over `cases` fits the budget (empty masks count as FNR 0):
// with probability >= 1 - delta, E[FNR(t)] <= epsilon.
[[nodiscard]] Result<double> pac_threshold(std::span<const LesionScores> cases, double epsilon,
                                           double delta);

}  // namespace cls
