#include <gtest/gtest.h>

#include "cls/volume.hpp"

namespace cls {
namespace {

TEST(Volume, XFastestIndexingAndWorldCoordinates) {
    Affine a = Affine::Identity();
    a.diagonal() << -2.0, 3.0, 4.0, 1.0;
    a.block<3, 1>(0, 3) << 10.0, 20.0, 30.0;
    Volume v({5, 4, 3}, a);
    EXPECT_EQ(v.voxel_count(), 60u);
    EXPECT_EQ(v.index(1, 2, 1), 1u + 5 * (2 + 4 * 1));
    v.at(4, 3, 2) = 7.0f;
    EXPECT_EQ(v.values().back(), 7.0f);
    EXPECT_DOUBLE_EQ(v.spacing()[0], 2.0);
    const Eigen::Vector3d w = v.world({1, 1, 1});
    EXPECT_DOUBLE_EQ(w.x(), 8.0);
    EXPECT_DOUBLE_EQ(w.y(), 23.0);
    EXPECT_DOUBLE_EQ(w.z(), 34.0);
}

TEST(Volume, SameGridComparesDimsAndAffine) {
    Volume a({2, 2, 2}, Affine::Identity());
    Volume b({2, 2, 2}, Affine::Identity());
    EXPECT_TRUE(same_grid(a, b));
    Affine shifted = Affine::Identity();
    shifted(2, 3) = 0.01;
    EXPECT_FALSE(same_grid(a, Volume({2, 2, 2}, shifted)));
    EXPECT_FALSE(same_grid(a, Volume({2, 2, 3}, Affine::Identity())));
}

}  // namespace
}  // namespace cls
