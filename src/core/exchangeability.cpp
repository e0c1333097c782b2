#include "cls/exchangeability.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "cls/region_of_interest.hpp"

namespace cls {
namespace {

// Scale factors that make the MAD and the mean absolute deviation estimate a normal's SD.
constexpr double kMadToSd = 1.4826;
constexpr double kMeanDeviationToSd = 1.2533;

double median(std::vector<double> values) {
    const std::size_t middle = values.size() / 2;
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(middle),
                     values.end());
    const double upper = values[middle];
    if (values.size() % 2 == 1) return upper;
    const double lower =
        *std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(middle));
    return lower + (upper - lower) / 2.0;
}

// A robust spread of the values around `centre`: the MAD as an SD; when more than half the
// values equal the centre (a set of one resolution), the mean absolute deviation instead, so
// that the one case that differs still stands out; 1 when every value is the centre (every
// deviation is then 0 and the scale does not matter).
double robust_scale(const std::vector<double>& values, double centre) {
    std::vector<double> deviations(values.size());
    double sum = 0.0;
    for (std::size_t i = 0; i < values.size(); ++i) {
        deviations[i] = std::abs(values[i] - centre);
        sum += deviations[i];
    }
    if (const double mad = median(deviations); mad > 0.0) return kMadToSd * mad;
    if (sum > 0.0) return kMeanDeviationToSd * sum / static_cast<double>(values.size());
    return 1.0;
}

double log_fraction(std::uint64_t count, std::uint64_t of) {
    return std::log10((static_cast<double>(count) + 1.0) / (static_cast<double>(of) + 1.0));
}

// A float's bits, remapped so that unsigned order is the floats' order (NaN aside).
// (memcpy, not std::bit_cast, which Emscripten 3.1.6's libc++ lacks.)
std::uint32_t order_key(float value) {
    std::uint32_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    return (bits & 0x80000000u) != 0 ? ~bits : bits | 0x80000000u;
}

float from_order_key(std::uint32_t key) {
    const std::uint32_t bits = (key & 0x80000000u) != 0 ? key & 0x7fffffffu : ~key;
    float value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
}

// The values of the given ascending 0-based ranks among the floats `for_each_value` visits
// (it calls its argument once per value; no NaN), without copying them: a volume's intensities
// may be as large as what is left of the tab's memory. A radix select on order_key in two
// passes of 16 bits: the first finds the high half of each rank's value and its rank among
// the values sharing it, the second counts the low halves of only those.
template <std::size_t N, class ForEachValue>
std::array<float, N> order_statistics(const std::array<std::uint64_t, N>& ranks,
                                      ForEachValue for_each_value) {
    constexpr std::size_t kHalf = std::size_t{1} << 16;
    std::vector<std::uint64_t> high(kHalf, 0);
    for_each_value([&](float value) { ++high[order_key(value) >> 16]; });
    std::array<std::uint32_t, N> bin{};
    std::array<std::uint64_t, N> within{};
    std::uint64_t below = 0;
    std::size_t q = 0;
    for (std::uint32_t b = 0; b < kHalf && q < N; ++b) {
        for (; q < N && ranks[q] < below + high[b]; ++q) {
            bin[q] = b;
            within[q] = ranks[q] - below;
        }
        below += high[b];
    }
    assert(q == N);  // every rank is below the count of values
    std::vector<std::uint32_t> bins(bin.begin(), bin.end());
    std::sort(bins.begin(), bins.end());
    bins.erase(std::unique(bins.begin(), bins.end()), bins.end());
    std::vector<std::vector<std::uint64_t>> low(bins.size(), std::vector<std::uint64_t>(kHalf, 0));
    for_each_value([&](float value) {
        const std::uint32_t key = order_key(value);
        for (std::size_t j = 0; j < bins.size(); ++j) {
            if (bins[j] == key >> 16) {
                ++low[j][key & 0xffffu];
                break;
            }
        }
    });
    std::array<float, N> values{};
    for (std::size_t k = 0; k < N; ++k) {
        const auto j = static_cast<std::size_t>(std::lower_bound(bins.begin(), bins.end(), bin[k]) -
                                                bins.begin());
        std::uint64_t seen = 0;
        for (std::uint32_t l = 0; l < kHalf; ++l) {
            seen += low[j][l];
            if (within[k] < seen) {
                values[k] = from_order_key((bin[k] << 16) | l);
                break;
            }
        }
    }
    return values;
}

}  // namespace

CaseProfile profile_case(const Volume& probabilities, const Volume* region, const Volume* image) {
    assert(region == nullptr || region->dims() == probabilities.dims());
    assert(image == nullptr || image->dims() == probabilities.dims());
    CaseProfile profile;
    const std::array<double, 3>& spacing = probabilities.spacing();
    profile.voxel_mm3 = spacing[0] * spacing[1] * spacing[2];
    const float* p = probabilities.data();
    const float* r = region ? region->data() : nullptr;
    std::uint64_t intensity_count = 0;
    for (std::size_t i = 0; i < probabilities.voxel_count(); ++i) {
        if (r != nullptr && !inside_region(r[i])) continue;
        ++profile.region_voxels;
        profile.predicted_voxels += p[i] >= kPredictedAt;
        profile.uncertain_voxels += p[i] >= kUncertainFrom && p[i] < kUncertainTo;
        if (image != nullptr && inside_region(image->data()[i])) ++intensity_count;
    }
    if (image != nullptr) {
        std::array<float, kIntensityPercentiles.size()> percentiles{};
        if (intensity_count > 0) {
            std::array<std::uint64_t, kIntensityPercentiles.size()> ranks{};
            for (std::size_t q = 0; q < ranks.size(); ++q) {
                ranks[q] = static_cast<std::uint64_t>(kIntensityPercentiles[q]) *
                           (intensity_count - 1) / 100;
            }
            const float* values = image->data();
            auto selected = order_statistics(ranks, [&](auto&& visit) {
                for (std::size_t i = 0; i < image->voxel_count(); ++i) {
                    if ((r == nullptr || inside_region(r[i])) && inside_region(values[i])) {
                        visit(values[i]);
                    }
                }
            });
            std::copy(selected.begin(), selected.end(), percentiles.begin());
        }
        profile.intensity_percentiles = percentiles;
    }
    return profile;
}

std::string_view to_string(CaseStatistic statistic) {
    return name_of(kCaseStatisticNames, statistic);
}

std::vector<double> case_statistics(const CaseProfile& profile, bool with_intensity) {
    std::vector<double> statistics = {
        std::log10(profile.voxel_mm3),
        log_fraction(profile.predicted_voxels, profile.region_voxels),
        log_fraction(profile.uncertain_voxels, profile.region_voxels),
    };
    if (!with_intensity) return statistics;
    assert(profile.intensity_percentiles);
    // Percentiles 1, 5, 25, 50, 75, 95, 99 at indices 0 to 6.
    const auto& q = *profile.intensity_percentiles;
    double spread = static_cast<double>(q[4]) - static_cast<double>(q[2]);
    if (!(spread > 0.0)) spread = static_cast<double>(q[6]) - static_cast<double>(q[0]);
    if (!(spread > 0.0)) spread = 1.0;  // a flat image: every scaled percentile is 0
    for (std::size_t index : {0u, 1u, 5u, 6u}) {
        statistics.push_back((static_cast<double>(q[index]) - static_cast<double>(q[3])) / spread);
    }
    return statistics;
}

Result<ExchangeabilityCheck> check_exchangeability(std::span<const CaseProfile> calibration,
                                                   const CaseProfile& candidate) {
    if (calibration.empty()) {
        return make_error("no calibration case to compare with");
    }
    ExchangeabilityCheck check;
    check.compared_with = calibration.size();
    check.with_intensity =
        candidate.intensity_percentiles.has_value() &&
        std::all_of(calibration.begin(), calibration.end(),
                    [](const CaseProfile& c) { return c.intensity_percentiles.has_value(); });

    // The n + 1 cases' statistics, the candidate last.
    std::vector<std::vector<double>> rows;
    rows.reserve(calibration.size() + 1);
    for (const CaseProfile& c : calibration)
        rows.push_back(case_statistics(c, check.with_intensity));
    rows.push_back(case_statistics(candidate, check.with_intensity));
    const std::size_t statistics = rows.front().size();

    std::vector<double> scores(rows.size(), 0.0);
    std::vector<double> column(rows.size());
    for (std::size_t j = 0; j < statistics; ++j) {
        for (std::size_t i = 0; i < rows.size(); ++i) column[i] = rows[i][j];
        const double centre = median(column);
        const double scale = robust_scale(column, centre);
        for (std::size_t i = 0; i < rows.size(); ++i) {
            const double z = std::abs(column[i] - centre) / scale;
            if (z > scores[i]) {
                scores[i] = z;
                if (i + 1 == rows.size()) check.most_unlike = static_cast<CaseStatistic>(j);
            }
        }
    }
    check.score = scores.back();
    const auto at_least_as_unlike =
        std::count_if(scores.begin(), scores.end() - 1, [&](double s) { return s >= check.score; });
    check.p_value =
        static_cast<double>(1 + at_least_as_unlike) / static_cast<double>(calibration.size() + 1);
    return check;
}

Status validate_flag_level(double level) {
    if (level > 0.0 && level < 1.0) return Done{};
    char text[32];
    std::snprintf(text, sizeof text, "%g", level);
    return make_error(std::string("the flag level must be in (0, 1), got ") + text);
}

std::string unlike_warning(const ExchangeabilityCheck& check) {
    char text[128];
    std::snprintf(text, sizeof text,
                  "unlike the calibration set (p = %.3g): the guarantee may not hold for it",
                  check.p_value);
    return text;
}

std::string flag_level_note(std::size_t n, double level) {
    if (1.0 / static_cast<double>(n + 1) <= level) return "";
    char text[200];
    std::snprintf(text, sizeof text,
                  "with %zu calibration cases no p-value is below 1/%zu = %.3g, so none can be "
                  "flagged at %g",
                  n, n + 1, 1.0 / static_cast<double>(n + 1), level);
    return text;
}

}  // namespace cls
