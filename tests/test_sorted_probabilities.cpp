// Counts below a threshold, plain and run-length coded, against counting one by one.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "cls/random.hpp"
#include "cls/sorted_probabilities.hpp"

namespace cls {
namespace {

std::size_t brute_below(const std::vector<float>& values, double t) {
    return static_cast<std::size_t>(
        std::count_if(values.begin(), values.end(), [t](float p) { return p < t; }));
}

void expect_counts_match(const std::vector<float>& sorted) {
    const SortedProbabilities counts(sorted);
    EXPECT_EQ(counts.size(), sorted.size());
    std::vector<double> thresholds = {0.0, 0.5, 1.0, 1.5, -1.0, INFINITY};
    // At, just below and just above every distinct value: each run's edges.
    std::vector<float> distinct = sorted;
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    for (float p : distinct) {
        thresholds.push_back(p);
        thresholds.push_back(std::nextafter(p, 2.0f));
        thresholds.push_back(std::nextafter(p, -1.0f));
    }
    for (double t : thresholds) {
        EXPECT_EQ(counts.count_below(t), brute_below(sorted, t)) << "t=" << t;
        EXPECT_EQ(counts.count_at_least(t), sorted.size() - brute_below(sorted, t));
    }
}

TEST(SortedProbabilities, ContinuousValuesStayPlain) {
    Random rng(3);
    std::vector<float> values(500);
    for (float& v : values) v = static_cast<float>(rng.uniform());
    std::sort(values.begin(), values.end());
    EXPECT_FALSE(SortedProbabilities(values).run_length_coded());
    expect_counts_match(values);
}

TEST(SortedProbabilities, QuantisedValuesAreRunLengthCodedAndExact) {
    // A map stored as uint8 / 255: 256 distinct values among 20,000 voxels.
    Random rng(4);
    std::vector<float> values(20000);
    for (float& v : values) v = static_cast<float>(rng.below(256)) / 255.0f;
    std::sort(values.begin(), values.end());
    const SortedProbabilities counts(values);
    EXPECT_TRUE(counts.run_length_coded());
    EXPECT_LT(counts.memory_bytes(), values.size() * sizeof(float) / 10);
    expect_counts_match(values);
}

TEST(SortedProbabilities, EmptyAndConstant) {
    expect_counts_match({});
    expect_counts_match(std::vector<float>(100, 0.0f));
    expect_counts_match(std::vector<float>(7, 1.0f));
}

}  // namespace
}  // namespace cls
