// The exchangeability check (cls/exchangeability.hpp): its p-value on hand-worked sets, the
// statistical promise it makes (cases exchangeable with the calibration cases are flagged at
// the nominal rate, floor(a (n + 1)) / (n + 1), over many draws, within a tolerance from the
// binomial), and that clearly shifted cases (another contrast, another resolution) are flagged.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "cls/exchangeability.hpp"
#include "cls/random.hpp"
#include "cls/synth.hpp"

namespace cls {
namespace {

CaseProfile map_profile(std::uint64_t predicted, std::uint64_t uncertain, double voxel_mm3 = 1.0) {
    return {.voxel_mm3 = voxel_mm3,
            .region_voxels = 100000,
            .predicted_voxels = predicted,
            .uncertain_voxels = uncertain,
            .intensity_percentiles = std::nullopt};
}

// The share of `draws` exchangeable draws flagged must be within 4 binomial standard errors of
// the exact rate floor(level (n + 1)) / (n + 1) (when no scores tie; ties only lower it).
void expect_nominal_rate(std::size_t flagged_draws, std::size_t draws, std::size_t n,
                         double level) {
    const double exact =
        std::floor(level * static_cast<double>(n + 1) + 1e-9) / static_cast<double>(n + 1);
    const double rate = static_cast<double>(flagged_draws) / static_cast<double>(draws);
    const double tolerance = 4.0 * std::sqrt(exact * (1.0 - exact) / static_cast<double>(draws));
    std::printf(
        "%zu of %zu exchangeable draws flagged at %g with n = %zu: rate %.4f, exact "
        "%.4f, tolerance %.4f\n",
        flagged_draws, draws, level, n, rate, exact, tolerance);
    EXPECT_NEAR(rate, exact, tolerance) << flagged_draws << " of " << draws << " flagged";
    EXPECT_LE(rate, level + tolerance);
}

TEST(Exchangeability, PValuesOnHandWorkedSets) {
    const std::vector<CaseProfile> calibration = {map_profile(100, 50), map_profile(120, 60),
                                                  map_profile(90, 40), map_profile(110, 55)};
    // Far from all four: its score is the largest of the five, so p = 1 / 5.
    auto far = check_exchangeability(calibration, map_profile(5000, 50));
    ASSERT_TRUE(far);
    EXPECT_EQ(far->p_value, 1.0 / 5.0);
    EXPECT_EQ(far->compared_with, 4u);
    EXPECT_FALSE(far->with_intensity);
    EXPECT_EQ(far->most_unlike, CaseStatistic::predicted_fraction);
    EXPECT_TRUE(flagged(*far, 0.2));
    EXPECT_FALSE(flagged(*far, 0.1));
    EXPECT_EQ(unlike_warning(*far),
              "unlike the calibration set (p = 0.2): the guarantee may not hold for it");
    // A copy of a calibration case ties with it: p counts the tie (super-uniform, never less).
    auto copy = check_exchangeability(calibration, calibration[1]);
    ASSERT_TRUE(copy);
    EXPECT_GE(copy->p_value, 2.0 / 5.0);
    // Another resolution in a set of one resolution stands out however alike the rest is.
    auto coarse = check_exchangeability(calibration, map_profile(105, 52, 8.0));
    ASSERT_TRUE(coarse);
    EXPECT_EQ(coarse->p_value, 1.0 / 5.0);
    EXPECT_EQ(coarse->most_unlike, CaseStatistic::voxel_volume);
    EXPECT_FALSE(check_exchangeability({}, map_profile(1, 1)));
}

TEST(Exchangeability, ImageStatisticsOnlyWhenEveryCaseHasThem) {
    CaseProfile with_image = map_profile(100, 50);
    with_image.intensity_percentiles = std::array<float, 7>{1, 2, 3, 4, 5, 6, 7};
    const std::vector<CaseProfile> mixed = {with_image, map_profile(110, 55), with_image};
    EXPECT_FALSE(check_exchangeability(mixed, with_image)->with_intensity);
    const std::vector<CaseProfile> all = {with_image, with_image, with_image};
    EXPECT_TRUE(check_exchangeability(all, with_image)->with_intensity);
    EXPECT_FALSE(check_exchangeability(all, map_profile(100, 50))->with_intensity);
    // (percentile - median) / IQR for the 1st, 5th, 95th, 99th: (1-4)/2, (2-4)/2, (6-4)/2, (7-4)/2
    EXPECT_EQ(case_statistics(with_image, true),
              (std::vector<double>{0.0, std::log10(101.0 / 100001.0), std::log10(51.0 / 100001.0),
                                   -1.5, -1.0, 1.0, 1.5}));
}

TEST(Exchangeability, FlagLevels) {
    EXPECT_TRUE(validate_flag_level(0.05));
    EXPECT_EQ(validate_flag_level(0).error().message, "the flag level must be in (0, 1), got 0");
    EXPECT_FALSE(validate_flag_level(1));
    EXPECT_EQ(flag_level_note(19, 0.05), "");
    EXPECT_EQ(flag_level_note(10, 0.05),
              "with 10 calibration cases no p-value is below 1/11 = 0.0909, so none can be "
              "flagged at 0.05");
}

// A random profile from one fixed distribution, every statistic continuous in effect.
CaseProfile random_profile(Random& random) {
    CaseProfile p = map_profile(static_cast<std::uint64_t>(random.uniform(100, 5000)),
                                static_cast<std::uint64_t>(random.uniform(100, 20000)),
                                std::exp(random.uniform(-0.2, 0.2)));
    std::array<float, 7> q{};
    float level = static_cast<float>(random.uniform(0, 100));
    for (float& value : q) value = level += static_cast<float>(random.uniform(1, 50));
    p.intensity_percentiles = q;
    return p;
}

TEST(Exchangeability, ExchangeableDrawsAreFlaggedAtTheNominalRate) {
    Random random(2026);
    constexpr std::size_t kDraws = 4000;
    for (const auto& [n, level] : {std::pair<std::size_t, double>{19, 0.05}, {24, 0.1}}) {
        std::size_t flagged_draws = 0;
        for (std::size_t draw = 0; draw < kDraws; ++draw) {
            std::vector<CaseProfile> calibration;
            for (std::size_t i = 0; i < n; ++i) calibration.push_back(random_profile(random));
            auto check = check_exchangeability(calibration, random_profile(random));
            ASSERT_TRUE(check);
            flagged_draws += flagged(*check, level);
        }
        expect_nominal_rate(flagged_draws, kDraws, n, level);
    }
}

// Profiles of synthetic cases as the CLI makes them (map and image); `transform` changes a
// case's image and map before profiling.
struct Pool {
    std::vector<SynthCase> cases;
    std::vector<CaseProfile> profiles;
};

Pool synth_pool(int count) {
    Pool pool;
    for (int i = 0; i < count; ++i) {
        pool.cases.push_back(synth_case({.size = 16, .seed = 11}, i));
        const SynthCase& c = pool.cases.back();
        pool.profiles.push_back(profile_case(c.probability, nullptr, &c.image));
    }
    return pool;
}

TEST(Exchangeability, SyntheticCasesDrawnFromOneSetAreFlaggedAtTheNominalRate) {
    // Cases drawn without replacement from one pool are exchangeable, so the p-value is exactly
    // super-uniform whatever the pool holds.
    const Pool pool = synth_pool(100);
    Random random(7);
    constexpr std::size_t kDraws = 3000, kN = 19;
    std::size_t flagged_draws = 0;
    std::vector<std::size_t> order(pool.profiles.size());
    for (std::size_t draw = 0; draw < kDraws; ++draw) {
        std::iota(order.begin(), order.end(), 0);
        for (std::size_t i = 0; i <= kN; ++i) {
            std::swap(order[i], order[i + random.below(order.size() - i)]);
        }
        std::vector<CaseProfile> calibration;
        for (std::size_t i = 0; i < kN; ++i) calibration.push_back(pool.profiles[order[i]]);
        flagged_draws += flagged(*check_exchangeability(calibration, pool.profiles[order[kN]]),
                                 kDefaultFlagBelow);
    }
    expect_nominal_rate(flagged_draws, kDraws, kN, kDefaultFlagBelow);
}

// Another contrast: the head's intensities reversed (bright becomes dark), as a T1 against the
// FLAIR-like scans, the map unchanged.
CaseProfile other_contrast(const SynthCase& c) {
    Volume image = c.image;
    float lo = INFINITY, hi = -INFINITY;
    for (float v : image.values()) {
        if (v != 0.0f) lo = std::min(lo, v), hi = std::max(hi, v);
    }
    for (float& v : image.values()) {
        if (v != 0.0f) v = hi + lo - v;
    }
    return profile_case(c.probability, nullptr, &image);
}

// Another resolution: 2 x 2 x 2 blocks averaged, voxels of 8 mm^3.
CaseProfile other_resolution(const SynthCase& c) {
    const Dims d = c.image.dims();
    const Dims half{d[0] / 2, d[1] / 2, d[2] / 2};
    Affine affine = c.image.affine();
    affine.topLeftCorner<3, 3>() *= 2.0;
    Volume image(half, affine), probability(half, affine);
    for (std::int64_t z = 0; z < half[2]; ++z)
        for (std::int64_t y = 0; y < half[1]; ++y)
            for (std::int64_t x = 0; x < half[0]; ++x) {
                float sum_image = 0, sum_p = 0;
                for (int k = 0; k < 8; ++k) {
                    const std::int64_t i = 2 * x + (k & 1), j = 2 * y + (k >> 1 & 1),
                                       l = 2 * z + (k >> 2);
                    sum_image += c.image.at(i, j, l);
                    sum_p += c.probability.at(i, j, l);
                }
                image.at(x, y, z) = sum_image / 8;
                probability.at(x, y, z) = sum_p / 8;
            }
    return profile_case(probability, nullptr, &image);
}

TEST(Exchangeability, ShiftedCasesAreFlagged) {
    const Pool pool = synth_pool(30);
    const std::vector<CaseProfile> calibration(pool.profiles.begin(), pool.profiles.begin() + 19);
    for (std::size_t i = 19; i < pool.cases.size(); ++i) {
        auto contrast = check_exchangeability(calibration, other_contrast(pool.cases[i]));
        ASSERT_TRUE(contrast);
        EXPECT_TRUE(flagged(*contrast, kDefaultFlagBelow))
            << "contrast, case " << i << ", p " << contrast->p_value;
        auto resolution = check_exchangeability(calibration, other_resolution(pool.cases[i]));
        ASSERT_TRUE(resolution);
        EXPECT_EQ(resolution->p_value, 1.0 / 20.0) << "resolution, case " << i;
        EXPECT_EQ(resolution->most_unlike, CaseStatistic::voxel_volume);
    }
}

}  // namespace
}  // namespace cls
