// An evaluation case's metrics at any threshold, from its sorted probabilities alone, must be
// exactly measure_case()'s on the volumes (which counts voxel by voxel and labels components).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "cls/evaluation_case.hpp"
#include "cls/metrics.hpp"
#include "cls/synth.hpp"

namespace cls {
namespace {

void expect_same(const CaseMetrics& m, const CaseOutcome& o, const std::string& where) {
    EXPECT_EQ(o.true_positives, m.true_positives) << where;
    EXPECT_EQ(o.false_positives, m.predicted_voxels - m.true_positives) << where;
    EXPECT_EQ(o.lesions_detected, m.lesions_detected) << where;
    EXPECT_EQ(o.fnr, m.fnr) << where;
    EXPECT_EQ(o.fpr, m.fpr) << where;
    EXPECT_EQ(o.dice, m.dice) << where;
    EXPECT_EQ(o.compactness, m.compactness) << where;
    EXPECT_EQ(o.missed_lesion, m.missed_lesion) << where;
    const double lesion_fnr = m.lesions == 0 ? 0.0
                                             : static_cast<double>(m.lesions - m.lesions_detected) /
                                                   static_cast<double>(m.lesions);
    EXPECT_EQ(o.lesion_fnr, lesion_fnr) << where;
}

TEST(EvaluationCase, MetricsAtAnyThresholdEqualMeasureCase) {
    for (int index = 0; index < 12; ++index) {
        const SynthCase s = synth_case({.size = 14, .seed = 11}, index);
        auto c = collect_evaluation_case(s.name, s.probability, s.label);
        ASSERT_TRUE(c) << c.error().message;
        EXPECT_EQ(c->voxels(), s.probability.voxel_count());
        EXPECT_EQ(c->lesion_voxels() + c->background.size(), c->voxels());
        std::vector<double> thresholds = {0.0, 0.05, 0.5, 0.93, 1.0, INFINITY};
        for (std::size_t i = 0; i < c->lesion_voxels(); i += 7) {
            thresholds.push_back(c->lesion.sorted_lesion_probabilities[i]);
        }
        for (float max : c->sorted_lesion_maxima) {
            thresholds.push_back(max);
            thresholds.push_back(std::nextafter(max, 2.0f));
        }
        for (double t : thresholds) {
            auto m = measure_case(s.name, s.probability, s.label, t);
            ASSERT_TRUE(m);
            EXPECT_EQ(c->lesions(), m->lesions);
            EXPECT_EQ(c->predicted_voxels(t), m->predicted_voxels);
            expect_same(*m, outcome_at(*c, t), s.name + " t=" + std::to_string(t));
        }
    }
}

TEST(EvaluationCase, LesionMaximaArePerComponent) {
    // Two lesions along a line (voxels 0-1 and 4), as in test_metrics.
    Volume label({8, 1, 1}, Affine::Identity()), p({8, 1, 1}, Affine::Identity());
    const float labels[] = {1, 1, 0, 0, 1, 0, 0, 0};
    const float probabilities[] = {0.9f, 0.3f, 0.6f, 0.1f, 0.2f, 0.0f, -0.0f, 0.0f};
    std::copy(std::begin(labels), std::end(labels), label.data());
    std::copy(std::begin(probabilities), std::end(probabilities), p.data());
    auto c = collect_evaluation_case("line", p, label);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->sorted_lesion_maxima, (std::vector<float>{0.2f, 0.9f}));
    EXPECT_EQ(c->background.count_below(0.0), 0u);  // -0 is kept as +0
    const CaseOutcome o = outcome_at(*c, 0.5);
    EXPECT_EQ(o.lesions_detected, 1u);
    EXPECT_EQ(o.lesion_fnr, 0.5);
}

TEST(EvaluationCase, RefusesBadInputNamingTheCase) {
    Volume p({2, 1, 1}, Affine::Identity()), label({3, 1, 1}, Affine::Identity());
    auto shape = collect_evaluation_case("c7", p, label);
    ASSERT_FALSE(shape);
    EXPECT_EQ(shape.error().message, "c7: label is 3x1x1 but its probability map is 2x1x1");
    Volume q({2, 1, 1}, Affine::Identity()), l2({2, 1, 1}, Affine::Identity());
    q.data()[0] = NAN;
    auto nan = collect_evaluation_case("c8", q, l2);
    ASSERT_FALSE(nan);
    EXPECT_NE(nan.error().message.find("c8: probability map has 1 NaN"), std::string::npos);
}

}  // namespace
}  // namespace cls
