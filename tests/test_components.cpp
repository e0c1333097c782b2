#include <gtest/gtest.h>

#include "cls/components.hpp"

namespace cls {
namespace {

std::vector<std::uint8_t> grid(const Dims& d, std::initializer_list<std::array<int, 3>> on) {
    std::vector<std::uint8_t> mask(static_cast<std::size_t>(d[0] * d[1] * d[2]), 0);
    for (const auto& v : on) mask[static_cast<std::size_t>(v[0] + d[0] * (v[1] + d[1] * v[2]))] = 1;
    return mask;
}

TEST(Components, CornerNeighboursJoinUnder26Connectivity) {
    const Dims d{4, 4, 4};
    // (0,0,0) and (1,1,1) touch only at a corner; (3,3,3) stands alone.
    const Components c = label_components(grid(d, {{0, 0, 0}, {1, 1, 1}, {3, 3, 3}}), d);
    EXPECT_EQ(c.count, 2);
    EXPECT_EQ(c.labels[0], c.labels[1 + 4 * (1 + 4 * 1)]);
    EXPECT_NE(c.labels[0], c.labels[3 + 4 * (3 + 4 * 3)]);
}

TEST(Components, EmptyAndFullMasks) {
    const Dims d{3, 2, 5};
    EXPECT_EQ(label_components(grid(d, {}), d).count, 0);
    std::vector<std::uint8_t> full(30, 1);
    const Components c = label_components(full, d);
    EXPECT_EQ(c.count, 1);
    for (std::int32_t label : c.labels) EXPECT_EQ(label, 1);
}

TEST(Components, DoesNotWrapAcrossRowEnds) {
    const Dims d{3, 3, 1};
    // (2,0,0) and (0,1,0) are neighbours in memory but not in space.
    EXPECT_EQ(label_components(grid(d, {{2, 0, 0}, {0, 1, 0}}), d).count, 2);
}

TEST(Components, LargeLesionNeedsNoRecursion) {
    const Dims d{64, 64, 64};
    std::vector<std::uint8_t> full(64 * 64 * 64, 1);
    EXPECT_EQ(label_components(full, d).count, 1);
}

}  // namespace
}  // namespace cls
