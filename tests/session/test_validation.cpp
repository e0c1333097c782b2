#include <gtest/gtest.h>

#include "cls/synth.hpp"
#include "validation.hpp"

namespace cls::app {
namespace {

TEST(ValidationJob, RunsEveryChosenMethodAsCliEvaluateDoes) {
    CaseStore store;
    std::vector<EvaluationCase> cases;
    for (int i = 0; i < 30; ++i) {
        const SynthCase c = synth_case({.size = 16, .seed = 8}, i);
        ASSERT_TRUE(store.add("labels/" + c.name + ".nii", Role::label, c.label, ""));
        ASSERT_TRUE(store.add("probs/" + c.name + ".nii", Role::probability, c.probability, ""));
        cases.push_back(*collect_evaluation_case(c.name, c.probability, c.label));
    }
    ValidationSettings settings;
    settings.epsilon = 0.2;
    settings.splits = 50;
    settings.methods = {EvaluationMethod::cls, EvaluationMethod::crc, EvaluationMethod::lesion_cls,
                        EvaluationMethod::pac, EvaluationMethod::mondrian};
    ValidationJob job;
    job.start(store, settings);
    for (int frame = 0; frame < 10000 && job.running(); ++frame)
        job.advance(std::chrono::milliseconds(5));
    ASSERT_FALSE(job.running());
    ASSERT_TRUE(job.result()) << job.error();
    const ValidationResult& r = *job.result();
    ASSERT_EQ(r.curves.size(), 5u);
    EXPECT_EQ(r.curves[0].points.size(), 9u);  // CLS at alpha 0.1 ... 0.9 on 15 cases
    EXPECT_FALSE(r.mondrian_rule.empty());

    // The lesion-level curve is lesion-FNR coverage, exactly as cls evaluate reports it.
    const auto set = EvaluationSet::create(std::move(cases), EmptyMaskPolicy::satisfied);
    EvaluationSettings direct;
    direct.methods = {EvaluationMethod::lesion_cls};
    direct.epsilon = 0.2;
    direct.alpha = 0.3;
    direct.splits = 50;
    const auto report = evaluate(*set, direct);
    ASSERT_TRUE(report);
    const CoverageCurve& lesion = r.curves[2];
    ASSERT_EQ(lesion.method, EvaluationMethod::lesion_cls);
    const auto at_03 =
        std::find_if(lesion.points.begin(), lesion.points.end(),
                     [](const CoveragePoint& p) { return std::abs(p.alpha - 0.3) < 1e-9; });
    ASSERT_NE(at_03, lesion.points.end());
    EXPECT_EQ(at_03->coverage,
              summarize(report->methods[0].splits, &SplitMetrics::lesion_coverage).mean);
}

TEST(ValidationJob, SaysWhenThereIsNothingToValidateAndCancels) {
    CaseStore empty;
    ValidationJob job;
    job.start(empty, {});
    EXPECT_FALSE(job.running());
    EXPECT_NE(job.error().find("no labelled case"), std::string::npos);

    CaseStore store;
    const SynthCase c = synth_case({.size = 16, .seed = 8}, 1);
    ASSERT_TRUE(store.add("labels/a.nii", Role::label, c.label, ""));
    ASSERT_TRUE(store.add("probs/a.nii", Role::probability, c.probability, ""));
    job.start(store, {});
    EXPECT_TRUE(job.running());
    job.cancel();
    EXPECT_FALSE(job.running());
    EXPECT_FALSE(job.result());
}

}  // namespace
}  // namespace cls::app
