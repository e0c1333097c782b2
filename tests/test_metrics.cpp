#include <gtest/gtest.h>

#include "cls/metrics.hpp"

namespace cls {
namespace {

Volume line(std::initializer_list<float> values) {
    Volume v({static_cast<std::int64_t>(values.size()), 1, 1}, Affine::Identity());
    std::copy(values.begin(), values.end(), v.data());
    return v;
}

TEST(Metrics, CountsAgainstTheLabel) {
    // Two lesions (voxels 0-1 and 4), separated by background at 2-3.
    const Volume label = line({1, 1, 0, 0, 1, 0, 0, 0});
    const Volume p = line({0.9f, 0.3f, 0.6f, 0.1f, 0.2f, 0.0f, 0.0f, 0.0f});
    auto m = measure_case("c", p, label, 0.5);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->lesion_voxels, 3u);
    EXPECT_EQ(m->predicted_voxels, 2u);
    EXPECT_EQ(m->true_positives, 1u);
    EXPECT_DOUBLE_EQ(m->fnr, 2.0 / 3.0);
    EXPECT_DOUBLE_EQ(m->fpr, 1.0 / 5.0);
    EXPECT_DOUBLE_EQ(m->dice, 2.0 / (2 + 1 + 2));
    EXPECT_DOUBLE_EQ(*m->precision, 0.5);
    EXPECT_DOUBLE_EQ(m->compactness, 2.0 / 8.0);
    EXPECT_FALSE(m->missed_lesion);
    EXPECT_EQ(m->lesions, 2u);
    EXPECT_EQ(m->lesions_detected, 1u);
}

TEST(Metrics, MissedLesionAndEmptyConventions) {
    const Volume label = line({0, 1, 0});
    auto missed = measure_case("c", line({0.1f, 0.2f, 0.1f}), label, 0.5);
    ASSERT_TRUE(missed);
    EXPECT_TRUE(missed->missed_lesion);
    EXPECT_EQ(missed->fnr, 1.0);
    EXPECT_FALSE(missed->precision.has_value());  // nothing predicted

    auto empty = measure_case("c", line({0.1f, 0.2f}), line({0, 0}), 0.5);
    ASSERT_TRUE(empty);
    EXPECT_FALSE(empty->has_lesion());
    EXPECT_EQ(empty->fnr, 0.0);
    EXPECT_EQ(empty->dice, 1.0);
    EXPECT_FALSE(empty->missed_lesion);
}

TEST(Metrics, RefusesMismatchedGrids) {
    auto shape = measure_case("c12", line({0.1f, 0.2f}), line({0, 0, 1}), 0.5);
    ASSERT_FALSE(shape);
    EXPECT_NE(shape.error().message.find("c12: label is 3x1x1 but its probability map is 2x1x1"),
              std::string::npos)
        << shape.error().message;
    Affine shifted = Affine::Identity();
    shifted(0, 3) = 5.0;
    Volume moved({2, 1, 1}, shifted);
    auto affine = measure_case("c13", line({0.1f, 0.2f}), moved, 0.5);
    ASSERT_FALSE(affine);
    EXPECT_NE(affine.error().message.find("c13: label has a different voxel-to-world affine from its probability map"), std::string::npos);
}

}  // namespace
}  // namespace cls
