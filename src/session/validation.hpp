// The Validate tab's work: the same repeated random-split evaluation as `cls evaluate`, run
// on the loaded labelled cases as a job the frame loop advances (a few milliseconds a frame,
// with progress and cancel). It produces what the tab plots: for each chosen method, mean
// coverage against alpha (0.1 ... 0.9) at the current epsilon, beside the 1 - alpha and
// 1 - alpha + 1/(n+1) lines, and every test case's FNR against FPR on the first split, fixed
// 0.5 beside CLS. Coverage is the share of test cases with FNR <= epsilon; for lesion-level
// CLS, with lesion FNR <= epsilon (its own guarantee).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "case_store.hpp"
#include "cls/evaluation.hpp"

namespace cls::app {

struct ValidationSettings {
    double epsilon = 0.1;
    double alpha = 0.1;  // the scatter's CLS
    std::size_t splits = 200;
    double calibration_fraction = 0.5;
    EmptyMaskPolicy empty_masks = EmptyMaskPolicy::satisfied;
    std::uint64_t seed = 1;
    // Any of cls, crc, lesion_cls, pac, mondrian; mondrian splits the cases at the median
    // number of voxels predicted at 0.5 (a feature known for a new case).
    std::vector<EvaluationMethod> methods{EvaluationMethod::cls};
    double delta = 0.1;  // pac
};

struct CoveragePoint {
    double alpha = 0.0;
    double coverage = 0.0;  // mean over splits
};

struct CoverageCurve {
    EvaluationMethod method = EvaluationMethod::cls;
    std::vector<CoveragePoint> points;  // the alphas the calibration part can support
};

struct ScatterPoint {
    double fpr = 0.0;
    double fnr = 0.0;
};

struct ValidationResult {
    ValidationSettings settings;
    std::size_t calibration_cases = 0;  // per split
    std::size_t test_cases = 0;
    std::string mondrian_rule;              // as cls evaluate --mondrian writes it, when used
    std::vector<CoverageCurve> curves;      // in the order of settings.methods
    std::vector<ScatterPoint> fixed_cases;  // first split, threshold 0.5
    std::vector<ScatterPoint> cls_cases;    // first split, CLS at settings.alpha
};

class ValidationJob {
public:
    // Takes what it needs of the labelled cases now (so later loads do not disturb it).
    void start(const CaseStore& store, const ValidationSettings& settings);
    void cancel();
    // Works for about `budget`; call once a frame.
    void advance(std::chrono::milliseconds budget);

    [[nodiscard]] bool running() const { return running_; }
    [[nodiscard]] float progress() const;
    [[nodiscard]] const std::string& error() const { return error_; }
    [[nodiscard]] const std::optional<ValidationResult>& result() const { return result_; }

private:
    struct Run {
        EvaluationMethod method;  // its coverage curve; fixed marks the scatter's run
        double alpha;
        Evaluation evaluation;
    };
    void prepare_runs();
    void finish();

    const CaseStore* store_ = nullptr;
    std::vector<std::string> names_;  // the labelled cases, in name order
    std::size_t next_name_ = 0;       // the next one to reduce
    std::vector<EvaluationCase> cases_;
    ValidationSettings settings_;
    std::optional<MondrianRule> mondrian_;
    std::optional<EvaluationSet> set_;
    std::vector<Run> runs_;
    std::size_t splits_done_ = 0;
    std::size_t splits_total_ = 0;
    bool running_ = false;
    std::string error_;
    std::optional<ValidationResult> result_;
};

}  // namespace cls::app
