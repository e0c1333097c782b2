// The sweep behind every expected-FNR method (CRC, the PAC variant, and their re-runs on
// evaluation splits): the largest threshold t at which the calibration cases' summed FNR,
// sum_i FNR_i(t), stays within a budget. The sum only changes at the cases' lesion
// probabilities, so it is swept exactly over those breakpoints, in (value, case) order, with a
// compensated long-double sum. The order is a total one, so one calibration set gives the same
// sequence of additions, and so the same threshold, whoever sweeps it. Private to the core.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "cls/calibration.hpp"
#include "cls/result.hpp"

namespace cls::detail {

// Neumaier's compensated sum: the error stays a few ulps whatever the number of terms.
class CompensatedSum {
public:
    void add(long double term) {
        const long double t = sum_ + term;
        compensation_ += std::fabs(sum_) >= std::fabs(term) ? (sum_ - t) + term : (term - t) + sum_;
        sum_ = t;
    }
    [[nodiscard]] long double value() const { return sum_ + compensation_; }

private:
    long double sum_ = 0.0L;
    long double compensation_ = 0.0L;
};

// The FNR sum is exact up to rounding: a few ulps of long double, far below any real
// difference between two FNR sums, so an exact tie with the budget must still count as fitting.
inline long double fnr_sum_limit(long double budget) {
    return budget * (1.0L + 64.0L * std::numeric_limits<long double>::epsilon()) +
           64.0L * std::numeric_limits<long double>::min();
}

// The budget CRC gives the FNR sum: n/(n+1) * mean FNR + 1/(n+1) <= epsilon means
// sum_i FNR_i <= epsilon * (n + 1) - 1. Refuses epsilon = 0 and n with 1/(n+1) > epsilon.
Result<long double> crc_fnr_budget(std::size_t n, double epsilon);

// One lesion voxel: at thresholds above `value`, case `case_index` misses it.
struct FnrStep {
    float value;
    std::uint32_t case_index;
};

inline bool operator<(const FnrStep& a, const FnrStep& b) {
    return a.value < b.value || (a.value == b.value && a.case_index < b.case_index);
}

// Every lesion voxel of `cases` as a step, sorted by (value, case index).
std::vector<FnrStep> fnr_steps(std::span<const LesionScores* const> cases);

// Each lesion voxel of case i adds 1/m_i to the FNR sum (0 for an empty mask, which has none).
std::vector<long double> fnr_step_weights(std::span<const LesionScores* const> cases);

// The largest t such that sum over member cases of FNR_i(t) <= budget: a member lesion
// probability, or +inf when missing every lesion fits. At t = v the sum counts only values
// strictly below v, and below every value it is 0, so for a budget >= 0 (callers refuse a
// negative one) the smallest member value always qualifies.
template <class IsMember>
double largest_threshold_within(std::span<const FnrStep> steps,
                                std::span<const long double> weights, IsMember is_member,
                                long double budget) {
    const long double limit = fnr_sum_limit(budget);
    CompensatedSum risk_sum;
    double threshold = 0.0;
    std::size_t i = 0;
    while (i < steps.size()) {
        if (!is_member(steps[i].case_index)) {
            ++i;
            continue;
        }
        const float value = steps[i].value;
        threshold = value;
        for (; i < steps.size() && steps[i].value == value; ++i) {
            if (is_member(steps[i].case_index)) risk_sum.add(weights[steps[i].case_index]);
        }
        if (!(risk_sum.value() <= limit)) return threshold;
    }
    // Past the largest value every lesion is missed; if even that fits, predicting nothing does.
    return kInfinity;
}

}  // namespace cls::detail
