// A warning when a new case looks unlike the calibration cases. CLS promises
// P(FNR <= epsilon) >= 1 - alpha for a new case exchangeable with the calibration cases; nothing
// in the data can prove that, but some departures show (another contrast, another resolution,
// a model far outside what it was calibrated on), and a user should hear of them.
// Each case is summarised by a profile of case-level statistics computed the same way for every
// case: from the probability map as calibration reads it (the region of interest applied), and
// from the image when there is one. A nonconformity score says how far a case lies from the
// others: the largest robust z-score of its statistics, each against the median and median
// absolute deviation of the n + 1 cases together (full conformal: the calibration cases and the
// new one are scored by one rule fitted on all of them, which is what makes the p-value exact).
// The conformal p-value p = (1 + #{i <= n : s_i >= s_new}) / (n + 1) is then super-uniform
// when the new case is exchangeable with the n: P(p <= a) <= a for every a.
// What it can and cannot promise:
//   - a small p says "unlike the calibration set": flagging p <= 0.05 flags at most 5% of
//     exchangeable cases (exactly floor(0.05 (n + 1)) / (n + 1) when no scores tie);
//   - a large p proves nothing: a case may differ in ways these statistics do not see;
//   - with n + 1 < 1 / a no case can be flagged at level a, since p >= 1 / (n + 1).
// The statistics are counts and order statistics, never sums of floats, so a profile made from
// a case score equals one made from the volumes bit for bit (certificates from `cls score`
// equal those from the volumes).
// [X] voxel volume; fractions of the region predicted at 0.5 and uncertain (0.1 <= p < 0.9);
//     the image's intensity percentiles, scaled by its interquartile range
// [X] image statistics used only when every case compared has an image
// [ ] features from inside the network; several new cases tested together (a two-sample test)
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cls/enum_names.hpp"
#include "cls/result.hpp"
#include "cls/volume.hpp"

namespace cls {

// The image percentiles a profile keeps: numpy's method='lower' order statistics, the
// (pct * (m - 1) / 100)-th smallest (integer division) of the m region voxels that are
// non-zero in the image.
inline constexpr std::array<int, 7> kIntensityPercentiles{1, 5, 25, 50, 75, 95, 99};
inline constexpr float kPredictedAt = 0.5f;
inline constexpr float kUncertainFrom = 0.1f;  // uncertain: kUncertainFrom <= p < kUncertainTo
inline constexpr float kUncertainTo = 0.9f;

struct CaseProfile {
    double voxel_mm3 = 1.0;              // the map's voxel volume (the product of its spacing)
    std::uint64_t region_voxels = 0;     // where a prediction may fall: all voxels without a region
    std::uint64_t predicted_voxels = 0;  // p >= 0.5 on the restricted map
    std::uint64_t uncertain_voxels = 0;  // 0.1 <= p < 0.9 on the restricted map
    std::optional<std::array<float, kIntensityPercentiles.size()>> intensity_percentiles;

    friend bool operator==(const CaseProfile&, const CaseProfile&) = default;
};

// The profile of one case. `probabilities` is the map as calibration reads it, the region of
// interest already applied (cls/region_of_interest.hpp); `region` is the region's volume (null
// without one) and `image` the case's image (null without one), both on the map's grid.
[[nodiscard]] CaseProfile profile_case(const Volume& probabilities, const Volume* region,
                                       const Volume* image);

// The statistics compared, derived from a profile.
enum class CaseStatistic {
    voxel_volume,        // log10 of the voxel volume in mm^3
    predicted_fraction,  // log10((predicted + 1) / (region + 1))
    uncertain_fraction,  // log10((uncertain + 1) / (region + 1))
    intensity_p1,        // (percentile - median) / interquartile range, for the image's
    intensity_p5,        // 1st, 5th, 95th and 99th percentiles: the shape of its histogram,
    intensity_p95,       // which another contrast changes, whatever the scanner's scale
    intensity_p99,
};
inline constexpr EnumTable<CaseStatistic, 7> kCaseStatisticNames{
    {{CaseStatistic::voxel_volume, "log10_voxel_mm3"},
     {CaseStatistic::predicted_fraction, "log10_predicted_fraction"},
     {CaseStatistic::uncertain_fraction, "log10_uncertain_fraction"},
     {CaseStatistic::intensity_p1, "intensity_p1"},
     {CaseStatistic::intensity_p5, "intensity_p5"},
     {CaseStatistic::intensity_p95, "intensity_p95"},
     {CaseStatistic::intensity_p99, "intensity_p99"}}};
[[nodiscard]] std::string_view to_string(CaseStatistic statistic);

// The statistics of a profile, in CaseStatistic order; the image's only `with_intensity`
// (the profile must then have them).
[[nodiscard]] std::vector<double> case_statistics(const CaseProfile& profile, bool with_intensity);

struct ExchangeabilityCheck {
    double p_value = 1.0;           // (1 + #{i : s_i >= s_new}) / (n + 1)
    std::size_t compared_with = 0;  // n, the calibration cases
    bool with_intensity = false;    // whether the image's statistics were compared
    CaseStatistic most_unlike = CaseStatistic::voxel_volume;  // where the new case lies furthest
    double score = 0.0;                                       // s_new, in robust SDs
};

// The conformal p-value of `candidate` against the calibration cases' profiles. The image's
// statistics are compared when the candidate and every calibration case have them. Refuses an
// empty calibration set.
[[nodiscard]] Result<ExchangeabilityCheck> check_exchangeability(
    std::span<const CaseProfile> calibration, const CaseProfile& candidate);

inline constexpr double kDefaultFlagBelow = 0.05;
// A flag level must lie in (0, 1).
[[nodiscard]] Status validate_flag_level(double level);
// Flagged when p <= level: super-uniformity bounds P(p <= level), so at most that share of
// exchangeable cases is flagged.
[[nodiscard]] inline bool flagged(const ExchangeabilityCheck& check, double level) {
    return check.p_value <= level;
}
// "unlike the calibration set (p = 0.04): the guarantee may not hold for it"
[[nodiscard]] std::string unlike_warning(const ExchangeabilityCheck& check);
// Why no case can be flagged at `level` with n calibration cases, or "" when one can.
[[nodiscard]] std::string flag_level_note(std::size_t n, double level);

}  // namespace cls
