#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "cls/synth_scan.hpp"

namespace cls {
namespace {

TEST(SynthScan, IsDeterministicPerSeedAndIndex) {
    const SynthScan a = synth_scan({.size = 24, .seed = 3}, 5);
    const SynthScan b = synth_scan({.size = 24, .seed = 3}, 5);
    const SynthScan c = synth_scan({.size = 24, .seed = 4}, 5);
    const SynthScan d = synth_scan({.size = 24, .seed = 3}, 6);
    EXPECT_EQ(a.name, "case_005");
    EXPECT_EQ(a.image.values(), b.image.values());
    EXPECT_EQ(a.label.values(), b.label.values());
    EXPECT_NE(a.image.values(), c.image.values());
    EXPECT_NE(a.image.values(), d.image.values());
}

TEST(SynthScan, UsesSynthCasesGrid) {
    const SynthScan scan = synth_scan({.size = 20, .seed = 1}, 0);
    const SynthCase reference = synth_case({.size = 20, .seed = 1}, 0);
    EXPECT_EQ(scan.image.dims(), (Dims{20, 20, 20}));
    EXPECT_TRUE(same_grid(scan.image, reference.image, 0.0));
    EXPECT_TRUE(same_grid(scan.label, reference.label, 0.0));
}

// Over a range of indices: finite positive images, binary labels, lesions inside the head and
// brighter than the tissue, a mix of lesion-free and lesion cases, small and large lesions.
TEST(SynthScan, MakesPlausibleCases) {
    constexpr std::int64_t n = 32;
    const double middle = (n - 1) / 2.0;
    int empty = 0, with_lesions = 0;
    std::size_t smallest = SIZE_MAX, largest = 0;  // lesion voxels in a case
    for (int i = 0; i < 40; ++i) {
        const SynthScan scan = synth_scan({.size = n, .seed = 11}, i);
        double lesion_sum = 0.0, tissue_sum = 0.0, corner_sum = 0.0;
        std::size_t lesion_voxels = 0, tissue_voxels = 0, corner_voxels = 0;
        for (std::int64_t z = 0; z < n; ++z) {
            for (std::int64_t y = 0; y < n; ++y) {
                for (std::int64_t x = 0; x < n; ++x) {
                    const float v = scan.image.at(x, y, z);
                    const float l = scan.label.at(x, y, z);
                    ASSERT_TRUE(std::isfinite(v) && v >= 0.0f) << scan.name;
                    ASSERT_TRUE(l == 0.0f || l == 1.0f) << scan.name;
                    const double r = std::hypot(x - middle, y - middle, z - middle) / (n / 2.0);
                    if (l == 1.0f) {
                        // The brain (radius half-width less 8 voxels, a little wavy and
                        // shifted) lies within 0.7 of the half-width; the scalp reaches ~0.95.
                        ASSERT_LT(r, 0.7) << scan.name << " lesion voxel outside the brain";
                        lesion_sum += v;
                        ++lesion_voxels;
                    } else if (r < 0.4) {
                        tissue_sum += v;
                        ++tissue_voxels;
                    }
                    if (std::min({x, y, z}) < 2 && std::max({x, y, z}) >= n - 2) {
                        corner_sum += v;
                        ++corner_voxels;
                    }
                }
            }
        }
        const double tissue_mean = tissue_sum / static_cast<double>(tissue_voxels);
        // The background holds only noise, far darker than the brain.
        EXPECT_LT(corner_sum / static_cast<double>(corner_voxels), 0.3 * tissue_mean) << scan.name;
        if (lesion_voxels == 0) {
            ++empty;
        } else {
            ++with_lesions;
            smallest = std::min(smallest, lesion_voxels);
            largest = std::max(largest, lesion_voxels);
            EXPECT_GT(lesion_sum / static_cast<double>(lesion_voxels), tissue_mean) << scan.name;
        }
    }
    EXPECT_GE(empty, 2);
    EXPECT_LE(empty, 14);
    EXPECT_GE(with_lesions, 26);
    EXPECT_LT(smallest, 100u);
    EXPECT_GT(largest, 400u);
}

}  // namespace
}  // namespace cls
