#include "cls/calibration.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdio>
#include <limits>
#include <utility>

#include "fnr_sum.hpp"
#include "probability_sort.hpp"

namespace cls {
namespace {

// epsilon and alpha are read as decimals with nine places (see floor_of_product).
constexpr std::uint64_t kDecimalScale = 1'000'000'000;
// Counts multiplied by a scaled decimal stay exact in 64 bits below this bound.
[[maybe_unused]] constexpr std::uint64_t kMaxExactCount = std::uint64_t{1} << 34;

std::uint64_t decimal_units(double x) {
    assert(x >= 0.0 && x <= 1.0);
    return static_cast<std::uint64_t>(std::llround(x * static_cast<double>(kDecimalScale)));
}

std::string format_decimal(double x) {
    char text[32];
    std::snprintf(text, sizeof text, "%.9g", x);
    return text;
}

std::string format_count(std::size_t count, std::string_view noun) {
    return std::to_string(count) + " " + std::string(noun) + (count == 1 ? "" : "s");
}

}  // namespace

namespace {

// NaN fails both comparisons, so this one test rejects NaN, infinities and out-of-range values.
bool is_probability(float p) { return (p >= 0.0f) & (p <= 1.0f); }

// The slow path, run only once a map is known to be bad: says what is wrong and how often.
Error describe_invalid(std::span<const float> probabilities) {
    std::size_t non_finite = 0;
    std::size_t out_of_range = 0;
    for (float p : probabilities) {
        non_finite += !std::isfinite(p);
        out_of_range += std::isfinite(p) && !is_probability(p);
    }
    if (non_finite > 0) {
        return make_error("probability map has " +
                          format_count(non_finite, "NaN or infinite value") +
                          "; a probability map must hold finite values in [0, 1]");
    }
    return make_error("probability map has " + format_count(out_of_range, "value") +
                      " outside [0, 1]; is it logits, or a map before its activation?");
}

}  // namespace

Status check_probabilities(std::span<const float> probabilities) {
    std::size_t invalid = 0;
    for (float p : probabilities) invalid += !is_probability(p);
    if (invalid > 0) return describe_invalid(probabilities);
    return Done{};
}

namespace {

std::string value_text(float value) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", static_cast<double>(value));
    return text;
}

// The slow path, run only once a label is known not to be binary: the first few non-zero
// values met, in ascending order (a resampled label can hold millions).
Error describe_non_binary(std::span<const float> labels) {
    constexpr std::size_t kShown = 5;
    std::vector<float> values;
    for (float v : labels) {
        if (v == 0.0f || std::find(values.begin(), values.end(), v) != values.end()) continue;
        values.push_back(v);
        if (values.size() > kShown) break;
    }
    const bool more = values.size() > kShown;
    values.resize(std::min(values.size(), kShown));
    std::sort(values.begin(), values.end());
    std::string list;
    for (float v : values) list += (list.empty() ? "" : ", ") + value_text(v);
    const std::string listed =
        "label is not binary: besides 0 it holds the values " + list + (more ? " and more" : "");
    // No choice of lesion classes reads a label of fractions: say what went wrong instead.
    const bool whole =
        std::all_of(labels.begin(), labels.end(), [](float v) { return v == std::nearbyint(v); });
    if (!whole) return make_error(listed + ", not all whole numbers; " + kInterpolatedLabelAdvice);
    return make_error(listed +
                      "; say which are lesion with --lesion-labels (e.g. --lesion-labels "
                      "1,2,4, or nonzero) or the app's lesion-labels setting");
}

}  // namespace

Status check_label(std::span<const float> labels) {
    // The lesion value is the first non-zero one. Blocks are tallied without a branch or a
    // dependence between voxels, so the tally vectorises; until the lesion value is known it
    // is 0, and the block where the first non-zero value shows is tallied again with it.
    constexpr std::size_t kBlock = 4096;
    float lesion_value = 0.0f;
    std::size_t non_finite = 0;
    std::size_t other = 0;  // non-zero values unlike the lesion value
    const auto tally = [&](std::span<const float> block) {
        std::size_t unlike = 0;
        for (float v : block) unlike += (v != 0.0f) & (v != lesion_value);
        return unlike;
    };
    for (std::size_t begin = 0; begin < labels.size(); begin += kBlock) {
        const std::span<const float> block =
            labels.subspan(begin, std::min(kBlock, labels.size() - begin));
        for (float v : block) {
            non_finite += !(std::abs(v) <= std::numeric_limits<float>::max());  // NaN or infinite
        }
        std::size_t unlike = tally(block);
        if (unlike > 0 && lesion_value == 0.0f) {
            lesion_value =
                *std::find_if(block.begin(), block.end(), [](float v) { return v != 0.0f; });
            unlike = tally(block);
        }
        other += unlike;
    }
    const bool mixed = other > 0;
    if (non_finite > 0) {
        return make_error("label has " + format_count(non_finite, "NaN or infinite value") +
                          "; a lesion label holds 0 for background and one lesion value");
    }
    if (mixed) return describe_non_binary(labels);
    return Done{};
}

Result<LesionScores> collect_lesion_scores(std::string name, std::span<const float> probabilities,
                                           std::span<const float> labels) {
    if (probabilities.size() != labels.size()) {
        return make_error("probability map has " + std::to_string(probabilities.size()) +
                          " voxels but its label has " + std::to_string(labels.size()))
            .in(name);
    }
    LesionScores scores{std::move(name), probabilities.size(), {}};
    std::vector<float>& lesion = scores.sorted_lesion_probabilities;
    // One pass over the case in cache-sized blocks. The first loop over a block (validity
    // tally, lesion count) has no branch and vectorises; most blocks hold no lesion and end
    // there. Otherwise a branch-free compaction appends the block's lesion values.
    constexpr std::size_t kBlock = 1024;
    std::size_t invalid = 0;
    for (std::size_t begin = 0; begin < probabilities.size(); begin += kBlock) {
        const std::size_t end = std::min(probabilities.size(), begin + kBlock);
        std::size_t lesion_in_block = 0;
        for (std::size_t i = begin; i < end; ++i) {
            invalid += !is_probability(probabilities[i]);
            lesion_in_block += labels[i] != 0.0f;
        }
        if (lesion_in_block == 0) continue;
        const std::size_t written = lesion.size();
        lesion.resize(written + lesion_in_block + 1);  // +1: the compaction writes one past
        float* out = lesion.data() + written;
        std::size_t k = 0;
        for (std::size_t i = begin; i < end; ++i) {
            out[k] = probabilities[i] + 0.0f;  // "+ 0" makes -0 into +0, as the bit sort needs
            k += labels[i] != 0.0f;
        }
        lesion.pop_back();
    }
    if (invalid > 0) return describe_invalid(probabilities).in(scores.name);
    detail::sort_probabilities(lesion);
    return scores;
}

std::size_t floor_of_product(double x, std::size_t count) {
    assert(count < kMaxExactCount);
    return static_cast<std::size_t>(decimal_units(x) * count / kDecimalScale);
}

double false_negative_rate(std::span<const float> sorted_lesion_probabilities, double threshold) {
    if (sorted_lesion_probabilities.empty()) return 0.0;
    // Lesion voxels with p < threshold are the ones a mask {p >= threshold} misses.
    const auto missed =
        std::lower_bound(sorted_lesion_probabilities.begin(), sorted_lesion_probabilities.end(),
                         threshold, [](float p, double t) { return p < t; }) -
        sorted_lesion_probabilities.begin();
    return static_cast<double>(missed) / static_cast<double>(sorted_lesion_probabilities.size());
}

double critical_threshold(std::span<const float> sorted_lesion_probabilities, double epsilon) {
    // FNR(t) <= epsilon allows at most j = floor(epsilon * m) missed voxels. The (j+1)-th
    // smallest value v misses at most j (ties at v are kept since p >= v), while any t > v
    // misses at least j + 1: so v is the largest admissible t.
    const std::size_t allowed_misses =
        floor_of_product(epsilon, sorted_lesion_probabilities.size());
    if (allowed_misses >= sorted_lesion_probabilities.size()) return kInfinity;
    return sorted_lesion_probabilities[allowed_misses];
}

std::size_t conformal_rank(std::size_t n, double alpha) {
    // Never beyond n: only an alpha within the tolerance of 1 could ask for the (n+1)-th.
    return std::min(floor_of_product(alpha, n + 1), n);
}

std::size_t minimum_calibration_cases(double alpha) {
    // floor((n + 1) * alpha) >= 1  <=>  (n + 1) * units >= scale, in exact decimal units.
    const std::uint64_t units = decimal_units(alpha);
    if (units == 0) return std::numeric_limits<std::size_t>::max();
    return static_cast<std::size_t>((kDecimalScale + units - 1) / units - 1);
}

std::string_view to_string(Method method) { return name_of(kMethodNames, method); }

std::string_view to_string(EmptyMaskPolicy policy) {
    return name_of(kEmptyMaskPolicyNames, policy);
}

Result<Method> parse_method(std::string_view text) {
    return parse_name(kMethodNames, text, "method");
}

Result<EmptyMaskPolicy> parse_empty_mask_policy(std::string_view text) {
    return parse_name(kEmptyMaskPolicyNames, text, "empty-mask policy");
}

Status validate(const CalibrationSettings& settings) {
    // Negated comparisons so that NaN fails too.
    if (!(settings.epsilon >= 0.0 && settings.epsilon < 1.0)) {
        return make_error("epsilon must be in [0, 1), got " + format_decimal(settings.epsilon));
    }
    if (!(settings.alpha > 0.0 && settings.alpha < 1.0) || decimal_units(settings.alpha) == 0) {
        return make_error("alpha must be in (0, 1) and at least 1e-9, got " +
                          format_decimal(settings.alpha));
    }
    if (!(settings.fixed_threshold >= 0.0 && settings.fixed_threshold <= 1.0)) {
        return make_error("the fixed threshold must be in [0, 1], got " +
                          format_decimal(settings.fixed_threshold));
    }
    return Done{};
}

namespace detail {

Result<long double> crc_fnr_budget(std::size_t n, double epsilon) {
    if (!(epsilon > 0.0)) return make_error("CRC cannot reach epsilon = 0: choose epsilon > 0");
    // n/(n+1) * mean FNR(t) + 1/(n+1) <= epsilon  <=>  sum_i FNR_i(t) <= epsilon*(n+1) - 1,
    // with epsilon*(n+1) exact in integer decimal units.
    const std::uint64_t scaled_budget = decimal_units(epsilon) * (n + 1);
    if (n == 0 || scaled_budget < kDecimalScale) {
        return make_error("CRC needs 1/(n+1) <= epsilon, i.e. at least " +
                          std::to_string(minimum_calibration_cases(epsilon)) +
                          " calibration cases for epsilon = " + format_decimal(epsilon) +
                          ", and has " + std::to_string(n));
    }
    return static_cast<long double>(scaled_budget - kDecimalScale) /
           static_cast<long double>(kDecimalScale);
}

std::vector<FnrStep> fnr_steps(std::span<const LesionScores* const> cases) {
    std::size_t total = 0;
    for (const LesionScores* c : cases) total += c->lesion_voxels();
    std::vector<FnrStep> steps;
    steps.reserve(total);
    for (std::size_t i = 0; i < cases.size(); ++i) {
        for (float p : cases[i]->sorted_lesion_probabilities) {
            steps.push_back({p, static_cast<std::uint32_t>(i)});
        }
    }
    std::sort(steps.begin(), steps.end());
    return steps;
}

std::vector<long double> fnr_step_weights(std::span<const LesionScores* const> cases) {
    std::vector<long double> weights;
    weights.reserve(cases.size());
    for (const LesionScores* c : cases) {
        weights.push_back(c->empty_mask() ? 0.0L
                                          : 1.0L / static_cast<long double>(c->lesion_voxels()));
    }
    return weights;
}

}  // namespace detail

CrcRiskCurve::CrcRiskCurve(std::span<const LesionScores> cases)
    : CrcRiskCurve([&] {
          std::vector<const LesionScores*> pointers;
          pointers.reserve(cases.size());
          for (const LesionScores& c : cases) pointers.push_back(&c);
          return pointers;
      }()) {}

CrcRiskCurve::CrcRiskCurve(std::span<const LesionScores* const> cases) {
    const std::vector<detail::FnrStep> steps = detail::fnr_steps(cases);
    const std::vector<long double> weights = detail::fnr_step_weights(cases);
    // The same additions in the same order as detail::largest_threshold_within, recorded once
    // per distinct value: the risk at t = v counts the values strictly below v.
    detail::CompensatedSum risk;
    for (std::size_t i = 0; i < steps.size();) {
        const float value = steps[i].value;
        values_.push_back(value);
        risk_at_.push_back(risk.value());
        for (; i < steps.size() && steps[i].value == value; ++i) {
            risk.add(weights[steps[i].case_index]);
        }
    }
    risk_past_all_ = risk.value();
}

Result<double> CrcRiskCurve::threshold(double epsilon, std::size_t n) const {
    auto budget = detail::crc_fnr_budget(n, epsilon);
    if (!budget) return budget.error();
    const long double limit = detail::fnr_sum_limit(*budget);
    // Past the largest value every lesion is missed; if even that fits, predicting nothing does.
    if (risk_past_all_ <= limit) return kInfinity;
    // The risk grows with t and is 0 at the smallest value, within any budget >= 0: the answer
    // is the last value whose risk fits.
    const auto fits_end = std::upper_bound(risk_at_.begin(), risk_at_.end(), limit);
    return values_[static_cast<std::size_t>(fits_end - risk_at_.begin()) - 1];
}

Result<double> crc_threshold(std::span<const LesionScores> cases, double epsilon) {
    return CrcRiskCurve(cases).threshold(epsilon, cases.size());
}

std::vector<std::uint8_t> predict_mask(std::span<const float> probabilities, double threshold) {
    std::vector<std::uint8_t> mask(probabilities.size());
    std::transform(probabilities.begin(), probabilities.end(), mask.begin(),
                   [threshold](float p) { return static_cast<std::uint8_t>(p >= threshold); });
    return mask;
}

Result<Calibration> calibrate(std::span<const LesionScores> cases,
                              const CalibrationSettings& settings, const CrcRiskCurve* crc_curve) {
    if (Status valid = validate(settings); !valid) return valid.error();

    Calibration result;
    result.settings = settings;
    std::vector<const LesionScores*> counted;
    for (const LesionScores& c : cases) {
        const bool excluded = c.empty_mask() && settings.empty_masks == EmptyMaskPolicy::exclude;
        result.empty_mask_count += c.empty_mask();
        result.cases.push_back({c.name, c.lesion_voxels(),
                                critical_threshold(c.sorted_lesion_probabilities, settings.epsilon),
                                excluded});
        if (!excluded) counted.push_back(&c);
    }
    result.n = counted.size();

    switch (settings.method) {
        case Method::fixed:
            result.threshold = settings.fixed_threshold;
            return result;
        case Method::crc: {
            Result<double> tau = crc_curve
                                     ? crc_curve->threshold(settings.epsilon, result.n)
                                     : CrcRiskCurve(counted).threshold(settings.epsilon, result.n);
            if (!tau) return tau.error();
            result.threshold = *tau;
            return result;
        }
        case Method::cls:
            break;
    }

    result.k = conformal_rank(result.n, settings.alpha);
    if (result.k == 0) {
        return make_error(
            "alpha = " + format_decimal(settings.alpha) + " needs at least " +
            std::to_string(minimum_calibration_cases(settings.alpha)) +
            " calibration cases (k = floor((n+1)*alpha) must be >= 1), and " +
            format_count(result.n, "case") + " count" +
            (result.empty_mask_count > 0 && settings.empty_masks == EmptyMaskPolicy::exclude
                 ? " after excluding " + format_count(result.empty_mask_count, "empty mask")
                 : ""));
    }
    std::vector<double> thresholds;
    thresholds.reserve(result.cases.size());
    for (const CaseCalibration& c : result.cases) {
        if (!c.excluded) thresholds.push_back(c.critical_threshold);
    }
    std::nth_element(thresholds.begin(), thresholds.begin() + (result.k - 1), thresholds.end());
    result.threshold = thresholds[result.k - 1];
    return result;
}

}  // namespace cls
