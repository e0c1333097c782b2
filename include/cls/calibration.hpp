// Exact conformal calibration of a lesion-probability threshold (Tan et al., arXiv 2510.17897),
// with the baselines it is compared against. Vocabulary follows the paper:
//   a voxel is predicted lesion iff p >= t;
//   FNR_i(t) = #{lesion voxels of case i with p < t} / m_i, non-decreasing in t;
//   critical threshold t_i = the largest t with FNR_i(t) <= epsilon, which is the
//     (floor(epsilon * m_i) + 1)-th smallest lesion probability of case i;
//   CLS threshold tau = the k-th smallest t_i, k = floor((n + 1) * alpha), so that for an
//     exchangeable new case P(FNR <= epsilon) >= 1 - alpha.
// Everything is computed on the data's own values (order statistics, breakpoints), never a grid.
// Calibration keeps per case only its sorted lesion probabilities (`LesionScores`), so cases
// stream through one at a time and re-calibrating at a new epsilon or alpha needs no volume.
// [X] CLS (critical-threshold quantile), CRC for expected FNR (Angelopoulos et al.), fixed
// [X] empty ground-truth masks: "satisfied" (t_i = +inf, the paper's code) or "exclude"
// [X] lesion-level FNR, PAC (pac.hpp) and Mondrian variants: evaluated over random splits in
//     evaluation.hpp; not yet written as certificates by `cls calibrate`
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cls/enum_names.hpp"
#include "cls/result.hpp"

namespace cls {

inline constexpr double kInfinity = std::numeric_limits<double>::infinity();

// What calibration keeps of one labelled case.
struct LesionScores {
    std::string name;
    std::size_t voxel_count = 0;
    std::vector<float> sorted_lesion_probabilities;  // ascending

    [[nodiscard]] std::size_t lesion_voxels() const { return sorted_lesion_probabilities.size(); }
    [[nodiscard]] bool empty_mask() const { return sorted_lesion_probabilities.empty(); }
};

// Refuses NaN, infinite and out-of-[0, 1] values, with their count. Refusal is the policy:
// nothing clamps a map, since a map outside [0, 1] is usually logits, not rounding.
[[nodiscard]] Status check_probabilities(std::span<const float> probabilities);

// Refuses a label that is not a binary lesion mask: every voxel must be 0 (background) or one
// and the same lesion value (1, or 255 as some tools write masks). A multi-class label or one
// resampled with interpolation is refused with the values it holds, as are NaN and infinities.
// Calibration reads any non-zero voxel as lesion; this says when that reading would be a guess.
[[nodiscard]] Status check_label(std::span<const float> labels);
// What a refusal of a label with fractional values advises.
inline constexpr const char* kInterpolatedLabelAdvice =
    "was it resampled with interpolation? Resample labels with nearest neighbour";

// One pass over a case: validates probabilities (finite, in [0, 1]) and keeps the sorted
// probabilities of the voxels whose label is non-zero. Errors name `name`.
[[nodiscard]] Result<LesionScores> collect_lesion_scores(std::string name,
                                                         std::span<const float> probabilities,
                                                         std::span<const float> labels);

// floor(x * count) for a user-given decimal x in [0, 1], read with nine decimal places and
// multiplied exactly in integers: 0.29 * 100 is 28.999999999999996 in binary floating point,
// but the user meant 29. `count` must be below 2^34.
[[nodiscard]] std::size_t floor_of_product(double x, std::size_t count);

// FNR(t) = #{p < t} / m over sorted lesion probabilities; 0 for an empty mask.
[[nodiscard]] double false_negative_rate(std::span<const float> sorted_lesion_probabilities,
                                         double threshold);

// The largest t with FNR(t) <= epsilon: the (floor(epsilon * m) + 1)-th smallest lesion
// probability, +inf when that rank exceeds m (an empty mask, or epsilon = 1).
[[nodiscard]] double critical_threshold(std::span<const float> sorted_lesion_probabilities,
                                        double epsilon);

// k = floor((n + 1) * alpha); 0 means no finite conformal threshold exists.
[[nodiscard]] std::size_t conformal_rank(std::size_t n, double alpha);
// The smallest n for which conformal_rank(n, alpha) >= 1.
[[nodiscard]] std::size_t minimum_calibration_cases(double alpha);

enum class Method { cls, crc, fixed };
enum class EmptyMaskPolicy { satisfied, exclude };
inline constexpr EnumTable<Method, 3> kMethodNames{
    {{Method::cls, "cls"}, {Method::crc, "crc"}, {Method::fixed, "fixed"}}};
inline constexpr EnumTable<EmptyMaskPolicy, 2> kEmptyMaskPolicyNames{
    {{EmptyMaskPolicy::satisfied, "satisfied"}, {EmptyMaskPolicy::exclude, "exclude"}}};

[[nodiscard]] std::string_view to_string(Method method);
[[nodiscard]] std::string_view to_string(EmptyMaskPolicy policy);
[[nodiscard]] Result<Method> parse_method(std::string_view text);
[[nodiscard]] Result<EmptyMaskPolicy> parse_empty_mask_policy(std::string_view text);

struct CalibrationSettings {
    Method method = Method::cls;
    double epsilon = 0.1;  // FNR tolerance, in [0, 1)
    double alpha = 0.1;    // risk level, in (0, 1)
    EmptyMaskPolicy empty_masks = EmptyMaskPolicy::satisfied;
    double fixed_threshold = 0.5;  // used by Method::fixed only
};

// Checks ranges; the message names the offending setting and its allowed range.
[[nodiscard]] Status validate(const CalibrationSettings& settings);

struct CaseCalibration {
    std::string name;
    std::size_t lesion_voxels = 0;
    double critical_threshold = kInfinity;  // +inf for an empty mask
    bool excluded = false;                  // dropped by EmptyMaskPolicy::exclude
};

struct Calibration {
    CalibrationSettings settings;
    std::size_t n = 0;                 // cases that count after the empty-mask policy
    std::size_t k = 0;                 // the order statistic used by CLS (0 for CRC and fixed)
    std::size_t empty_mask_count = 0;  // cases with no lesion voxel, counted or excluded
    double threshold = 0.5;            // tau; +inf means "predict nothing"
    std::vector<CaseCalibration> cases;
};

class CrcRiskCurve;

// Calibrates over the given cases. Refuses (with the minimum number of cases) when k = 0 for
// CLS or when 1 / (n + 1) > epsilon makes CRC infeasible. `crc_curve`, when given, must be
// built over the same `cases`: it makes re-calibrating CRC at a new epsilon cheap.
[[nodiscard]] Result<Calibration> calibrate(std::span<const LesionScores> cases,
                                            const CalibrationSettings& settings,
                                            const CrcRiskCurve* crc_curve = nullptr);

// CRC for expected FNR: the largest t with n/(n+1) * mean_i FNR_i(t) + 1/(n+1) <= epsilon,
// found exactly on the breakpoints (the cases' lesion probabilities). Empty masks count as
// FNR 0. Refuses when no t qualifies.
[[nodiscard]] Result<double> crc_threshold(std::span<const LesionScores> cases, double epsilon);

// CRC's summed FNR over a calibration set as a step function of t, built once (one sort and
// one compensated sweep). The CRC threshold at any epsilon is then a binary search, so a slider
// can move epsilon every frame however many cases there are.
class CrcRiskCurve {
public:
    explicit CrcRiskCurve(std::span<const LesionScores> cases);
    explicit CrcRiskCurve(std::span<const LesionScores* const> cases);

    // The CRC threshold at epsilon with `n` counted cases: the curve's cases, or fewer when
    // empty masks are excluded (they add nothing to the sum, only to n).
    [[nodiscard]] Result<double> threshold(double epsilon, std::size_t n) const;

private:
    std::vector<float> values_;         // the distinct lesion probabilities, ascending
    std::vector<long double> risk_at_;  // sum_i FNR_i(t) at t = values_[g]
    long double risk_past_all_ = 0.0L;  // ... and above every value
};

// The MAPIE-style predict verb: mask = p >= threshold, as 0/1 bytes.
[[nodiscard]] std::vector<std::uint8_t> predict_mask(std::span<const float> probabilities,
                                                     double threshold);

}  // namespace cls
