#include "cls/pac.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <vector>

#include "fnr_sum.hpp"

namespace cls {
namespace {

std::string format_decimal(double x) {
    char text[32];
    std::snprintf(text, sizeof text, "%.9g", x);
    return text;
}

// h(a, b) with 0 ln 0 = 0.
double bernoulli_divergence(double a, double b) {
    const double first = a > 0.0 ? a * std::log(a / b) : 0.0;
    const double second = a < 1.0 ? (1.0 - a) * std::log((1.0 - a) / (1.0 - b)) : 0.0;
    return first + second;
}

double hoeffding_p_value(double mean_risk, std::size_t n, double epsilon) {
    return std::exp(-static_cast<double>(n) *
                    bernoulli_divergence(std::min(mean_risk, epsilon), epsilon));
}

// P(Binomial(n, p) <= k) for k = 0 .. n, each term from the last in log space so that
// (1 - p)^n may underflow without harm.
std::vector<double> binomial_cdf(std::size_t n, double p) {
    std::vector<double> cdf(n + 1);
    const double log_odds = std::log(p) - std::log1p(-p);
    double log_pmf = static_cast<double>(n) * std::log1p(-p);
    double sum = 0.0;
    for (std::size_t k = 0; k <= n; ++k) {
        sum += std::exp(log_pmf);
        cdf[k] = std::min(1.0, sum);
        log_pmf +=
            std::log(static_cast<double>(n - k)) - std::log(static_cast<double>(k + 1)) + log_odds;
    }
    return cdf;
}

Status check_levels(double epsilon, double delta) {
    if (!(epsilon > 0.0 && epsilon < 1.0)) {
        return make_error("PAC needs epsilon in (0, 1), got " + format_decimal(epsilon));
    }
    if (!(delta > 0.0 && delta < 1.0)) {
        return make_error("delta must be in (0, 1), got " + format_decimal(delta));
    }
    return Done{};
}

}  // namespace

double hoeffding_bentkus_p_value(double mean_risk, std::size_t n, double epsilon) {
    const double hoeffding = hoeffding_p_value(mean_risk, n, epsilon);
    // ceil(n r) with a little slack so that an FNR sum equal to an integer up to rounding is
    // that integer.
    const double sum = mean_risk * static_cast<double>(n);
    const auto k =
        static_cast<std::size_t>(std::max(0.0, std::ceil(sum - 1e-9 * std::max(1.0, sum))));
    const double bentkus = k >= n ? 1.0 : std::numbers::e * binomial_cdf(n, epsilon)[k];
    return std::min({1.0, hoeffding, bentkus});
}

std::size_t pac_minimum_calibration_cases(double epsilon, double delta) {
    return static_cast<std::size_t>(std::ceil(std::log(delta) / std::log1p(-epsilon)));
}

Result<double> hoeffding_bentkus_fnr_budget(std::size_t n, double epsilon, double delta) {
    if (Status levels = check_levels(epsilon, delta); !levels) return levels.error();
    if (n == 0) return make_error("PAC needs calibration cases, and has none");
    // Hoeffding: h(a, epsilon) >= ln(1/delta)/n, h falling from -ln(1-epsilon) at a = 0 to 0 at
    // a = epsilon; the largest such a by bisection, kept on the certified side.
    const double needed = -std::log(delta) / static_cast<double>(n);
    double hoeffding_budget = -1.0;
    if (bernoulli_divergence(0.0, epsilon) >= needed) {
        double lo = 0.0, hi = epsilon;
        for (int i = 0; i < 200 && hi - lo > 1e-15 * epsilon; ++i) {
            const double mid = 0.5 * (lo + hi);
            (bernoulli_divergence(mid, epsilon) >= needed ? lo : hi) = mid;
        }
        hoeffding_budget = lo * static_cast<double>(n);
    }
    // Bentkus: e * P(Binomial(n, epsilon) <= k) <= delta, a step in the integer k = ceil(n r),
    // so the budget is the largest such k.
    double bentkus_budget = -1.0;
    const std::vector<double> cdf = binomial_cdf(n, epsilon);
    for (std::size_t k = 0; k < n && std::numbers::e * cdf[k] <= delta; ++k) {
        bentkus_budget = static_cast<double>(k);
    }
    const double budget = std::max(hoeffding_budget, bentkus_budget);
    if (budget < 0.0) {
        return make_error("PAC with epsilon = " + format_decimal(epsilon) +
                          " and delta = " + format_decimal(delta) + " needs at least " +
                          std::to_string(pac_minimum_calibration_cases(epsilon, delta)) +
                          " calibration cases, and has " + std::to_string(n));
    }
    return budget;
}

Result<double> pac_threshold(std::span<const LesionScores> cases, double epsilon, double delta) {
    auto budget = hoeffding_bentkus_fnr_budget(cases.size(), epsilon, delta);
    if (!budget) return budget.error();
    std::vector<const LesionScores*> pointers;
    pointers.reserve(cases.size());
    for (const LesionScores& c : cases) pointers.push_back(&c);
    const std::vector<detail::FnrStep> steps = detail::fnr_steps(pointers);
    const std::vector<long double> weights = detail::fnr_step_weights(pointers);
    return detail::largest_threshold_within(
        steps, weights, [](std::uint32_t) { return true; }, static_cast<long double>(*budget));
}

}  // namespace cls
