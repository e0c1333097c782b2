// The region-of-interest rule (cls/region_of_interest.hpp) against values numpy gives for the
// same arrays:
//   inside = (r != 0) & ~np.isnan(r); q = np.where(inside, p, np.float32(0))
// and what calibration makes of the restricted map (lesion voxels outside count as misses).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "cls/calibration.hpp"
#include "cls/exchangeability.hpp"
#include "cls/random.hpp"
#include "cls/region_of_interest.hpp"

namespace cls {
namespace {

Volume line(std::vector<float> values) {
    Volume v({static_cast<std::int64_t>(values.size()), 1, 1}, Affine::Identity());
    v.values() = std::move(values);
    return v;
}

const float kNan = std::nanf("");

TEST(RegionOfInterest, NamesParseAndSayWhichFileGivesTheRegion) {
    for (const auto& entry : kRegionOfInterestNames) {
        EXPECT_EQ(parse_region_of_interest(entry.name).value(), entry.value);
        EXPECT_EQ(to_string(entry.value), entry.name);
    }
    EXPECT_EQ(parse_region_of_interest("brain").error().message,
              "unknown region of interest 'brain' (expected none, nonzero or mask)");
    EXPECT_EQ(region_source(RegionOfInterest::none), std::nullopt);
    EXPECT_EQ(region_source(RegionOfInterest::nonzero), FileRole::image);
    EXPECT_EQ(region_source(RegionOfInterest::mask), FileRole::mask);
}

TEST(RegionOfInterest, RestrictsTheMapAsNumpyDoes) {
    Volume p = line({0.9f, 0.2f, 0.7f, 0.05f, 0.6f, 0.95f, 0.3f, 0.8f});
    const Volume region = line({1, 1, 0, 1, kNan, 1, 0, 2});
    ASSERT_TRUE(restrict_to_region(p, region, "its region r.nii"));
    // numpy: [0.9, 0.2, 0.0, 0.05, 0.0, 0.95, 0.0, 0.8] (as float32)
    EXPECT_EQ(p.values(), (std::vector<float>{0.9f, 0.2f, 0.0f, 0.05f, 0.0f, 0.95f, 0.0f, 0.8f}));
    EXPECT_EQ(region_voxel_count(region), 5u);

    // Lesion voxels 0, 2, 4, 5: two fall outside and are missed at every threshold above 0.
    const Volume label = line({1, 0, 1, 0, 1, 1, 0, 0});
    auto scores = collect_lesion_scores("a", p.values(), label.values());
    ASSERT_TRUE(scores);
    // numpy: sorted lesion p' = [0, 0, 0.9, 0.95]; the (floor(eps m) + 1)-th smallest.
    EXPECT_EQ(scores->sorted_lesion_probabilities, (std::vector<float>{0.0f, 0.0f, 0.9f, 0.95f}));
    EXPECT_EQ(critical_threshold(scores->sorted_lesion_probabilities, 0.25), 0.0);
    EXPECT_EQ(critical_threshold(scores->sorted_lesion_probabilities, 0.5), 0.9f);
    EXPECT_EQ(false_negative_rate(scores->sorted_lesion_probabilities, 0.5), 0.5);
}

TEST(RegionOfInterest, ProfilesTheRestrictedMapInsideTheRegion) {
    Volume p = line({0.9f, 0.2f, 0.7f, 0.05f, 0.6f, 0.95f, 0.3f, 0.8f});
    const Volume region = line({1, 1, 0, 1, kNan, 1, 0, 2});
    const Volume image = line({5, 3, 9, 0, 7, kNan, 4, 2});
    ASSERT_TRUE(restrict_to_region(p, region, "its region r.nii"));
    const CaseProfile profile = profile_case(p, &region, &image);
    // numpy: inside.sum() = 5; (q >= 0.5).sum() = 3; ((q >= 0.1) & (q < 0.9)).sum() = 2
    EXPECT_EQ(profile.region_voxels, 5u);
    EXPECT_EQ(profile.predicted_voxels, 3u);
    EXPECT_EQ(profile.uncertain_voxels, 2u);
    EXPECT_EQ(profile.voxel_mm3, 1.0);
    // numpy: v = image[inside & (image != 0) & ~isnan(image)] = [2, 3, 5];
    // np.percentile(v, [1, 5, 25, 50, 75, 95, 99], method='lower') = [2, 2, 2, 3, 3, 3, 3]
    ASSERT_TRUE(profile.intensity_percentiles);
    EXPECT_EQ(*profile.intensity_percentiles, (std::array<float, 7>{2, 2, 2, 3, 3, 3, 3}));
    // Without a region every voxel counts; without an image there are no percentiles.
    const CaseProfile whole = profile_case(p, nullptr, nullptr);
    EXPECT_EQ(whole.region_voxels, 8u);
    EXPECT_FALSE(whole.intensity_percentiles);
}

// The percentiles are selected without copying the intensities (a radix select on the floats'
// bits); they must equal the sorted copy's order statistics on values that stress it: negative
// and positive, ties, neighbours that differ in the last bit, infinities, -0 and NaN (both
// outside), across a region.
TEST(RegionOfInterest, ImagePercentilesEqualASortedCopysOrderStatistics) {
    Random random(17);
    std::vector<float> image_values, region_values;
    for (int i = 0; i < 20000; ++i) {
        const double u = random.uniform();
        float v = static_cast<float>(random.normal() * 300.0);
        if (u < 0.1)
            v = 42.0f;  // ties
        else if (u < 0.15)
            v = std::nextafter(42.0f, 100.0f);  // the next float up
        else if (u < 0.17)
            v = -std::numeric_limits<float>::infinity();
        else if (u < 0.19)
            v = std::numeric_limits<float>::infinity();
        else if (u < 0.22)
            v = -0.0f;
        else if (u < 0.24)
            v = kNan;
        image_values.push_back(v);
        region_values.push_back(random.uniform() < 0.7 ? 1.0f : 0.0f);
    }
    std::vector<float> inside;
    for (std::size_t i = 0; i < image_values.size(); ++i) {
        if (inside_region(region_values[i]) && inside_region(image_values[i])) {
            inside.push_back(image_values[i]);
        }
    }
    std::sort(inside.begin(), inside.end());
    std::array<float, kIntensityPercentiles.size()> expected{};
    for (std::size_t q = 0; q < expected.size(); ++q) {
        expected[q] =
            inside[static_cast<std::size_t>(kIntensityPercentiles[q]) * (inside.size() - 1) / 100];
    }
    const Volume image = line(image_values);
    const Volume region = line(region_values);
    const Volume p = line(std::vector<float>(image_values.size(), 0.5f));
    const CaseProfile profile = profile_case(p, &region, &image);
    ASSERT_TRUE(profile.intensity_percentiles);
    EXPECT_EQ(*profile.intensity_percentiles, expected);
    EXPECT_EQ(expected.front(), -std::numeric_limits<float>::infinity());
    EXPECT_EQ(expected.back(), std::numeric_limits<float>::infinity());
}

TEST(RegionOfInterest, RefusesAnotherGridAndAnEmptyRegion) {
    Volume p = line({0.5f, 0.5f});
    const Volume small = line({1});
    EXPECT_EQ(restrict_to_region(p, small, "its region m.nii").error().message,
              "is 2x1x1 but its region m.nii is 1x1x1");
    const Volume empty = line({0, kNan});
    EXPECT_EQ(restrict_to_region(p, empty, "its region m.nii").error().message,
              "its region m.nii is empty (every voxel is 0 or NaN), so nothing could be "
              "predicted");
}

}  // namespace
}  // namespace cls
