// Intensity normalisation against values worked out by hand from each scheme's definition.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "cls/inference/normalisation.hpp"

namespace {

using namespace cls::inference;

cls::Volume line(std::initializer_list<float> values) {
    cls::Volume v({static_cast<std::int64_t>(values.size()), 1, 1}, cls::Affine::Identity());
    std::copy(values.begin(), values.end(), v.data());
    return v;
}

TEST(Normalisation, ZScoreUsesThePopulationStandardDeviation) {
    // mean 2.5, population variance 1.25
    auto out = normalise(line({1, 2, 3, 4}), {.scheme = NormalisationScheme::zscore});
    ASSERT_TRUE(out.ok());
    const double sd = std::sqrt(1.25);
    EXPECT_FLOAT_EQ((*out)[0], static_cast<float>(-1.5 / sd));
    EXPECT_FLOAT_EQ((*out)[3], static_cast<float>(1.5 / sd));
}

TEST(Normalisation, ZScoreOverNonZeroVoxelsLeavesZerosAlone) {
    auto out = normalise(line({0, 2, 4, 0}),
                         {.scheme = NormalisationScheme::zscore, .nonzero_only = true});
    ASSERT_TRUE(out.ok());
    EXPECT_EQ((*out)[0], 0.0f);
    EXPECT_FLOAT_EQ((*out)[1], -1.0f);  // mean 3, sd 1
    EXPECT_FLOAT_EQ((*out)[2], 1.0f);
}

TEST(Normalisation, ConstantImageDoesNotDivideByZero) {
    auto out = normalise(line({5, 5, 5}), {.scheme = NormalisationScheme::zscore});
    ASSERT_TRUE(out.ok());
    for (float v : *out) EXPECT_EQ(v, 0.0f);
}

TEST(Normalisation, CtClipsToTheWindowAndScalesToUnit) {
    auto out = normalise(line({-1000, -100, 50, 200, 3000}),
                         {.scheme = NormalisationScheme::ct, .low = -100, .high = 200});
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(*out, (std::vector<float>{0.0f, 0.0f, 0.5f, 1.0f, 1.0f}));
}

TEST(Normalisation, PercentilesInterpolateAsNumpyDoes) {
    // numpy.percentile([0..10], [10, 90]) = [1, 9]
    auto out = normalise(line({10, 0, 9, 1, 8, 2, 7, 3, 6, 4, 5}),
                         {.scheme = NormalisationScheme::percentile, .low = 10, .high = 90});
    ASSERT_TRUE(out.ok());
    EXPECT_FLOAT_EQ((*out)[0], 1.0f);   // 10 clipped to 9
    EXPECT_FLOAT_EQ((*out)[1], 0.0f);   // 0 clipped to 1
    EXPECT_FLOAT_EQ((*out)[10], 0.5f);  // 5 halfway between 1 and 9
    // numpy.percentile([0, 1, 2, 3], 50) = 1.5, between two order statistics.
    auto even = normalise(line({3, 0, 2, 1}),
                          {.scheme = NormalisationScheme::percentile, .low = 50, .high = 100});
    ASSERT_TRUE(even.ok());
    EXPECT_FLOAT_EQ((*even)[0], 1.0f);
    EXPECT_FLOAT_EQ((*even)[2], 0.5f / 1.5f);
}

TEST(Normalisation, RefusesNonFiniteVoxelsWithTheirCount) {
    auto out = normalise(
        line({1, std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}),
        {.scheme = NormalisationScheme::none});
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.error().message,
              "the image has 2 NaN or infinite voxels; the network cannot be run on it");
}

}  // namespace
