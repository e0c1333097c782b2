#include "validation.hpp"

#include <algorithm>
#include <cmath>

namespace cls::app {
namespace {

constexpr double kAlphas[] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9};

EvaluationSettings evaluation_settings(const ValidationSettings& v, double alpha,
                                       std::vector<EvaluationMethod> methods, std::size_t splits) {
    EvaluationSettings s;
    s.methods = std::move(methods);
    s.epsilon = v.epsilon;
    s.alpha = alpha;
    s.delta = v.delta;
    s.splits = splits;
    s.calibration_fraction = v.calibration_fraction;
    s.seed = v.seed;
    return s;
}

// The coverage a method promises: lesion-level CLS promises it for lesion FNR.
double coverage_of(const MethodReport& report) {
    return summarize(report.splits, report.method == EvaluationMethod::lesion_cls
                                        ? &SplitMetrics::lesion_coverage
                                        : &SplitMetrics::coverage)
        .mean;
}

// Splits the cases at the median number of voxels predicted at 0.5.
MondrianRule median_predicted_voxels_rule(std::span<const EvaluationCase> cases) {
    MondrianRule rule{.feature = MondrianFeature::predicted_voxels, .cuts = {1}};
    std::vector<std::size_t> burden;
    for (const EvaluationCase& c : cases) burden.push_back(mondrian_feature(rule, c));
    std::nth_element(burden.begin(),
                     burden.begin() + static_cast<std::ptrdiff_t>(burden.size() / 2), burden.end());
    rule.cuts = {std::max<std::size_t>(1, burden[burden.size() / 2])};
    return rule;
}

std::vector<ScatterPoint> scatter_of(const MethodReport& report) {
    std::vector<ScatterPoint> points;
    for (const CaseResult& c : report.first_split) points.push_back({c.outcome.fpr, c.outcome.fnr});
    return points;
}

}  // namespace

void ValidationJob::start(const CaseStore& store, const ValidationSettings& settings) {
    *this = ValidationJob{};
    store_ = &store;
    settings_ = settings;
    // A case given as its score has no background probabilities here (the app reads a score's
    // lesion section only), so validation needs the volumes.
    for (const LoadedCase& c : store.cases()) {
        if (c.calibrates() && !c.scored) names_.push_back(c.name);
    }
    if (names_.empty()) {
        error_ = store.has_scored_cases()
                     ? "no calibration case with its volumes to validate on: cases given as "
                       "scores are validated by `cls evaluate --scores`"
                     : "no labelled case to validate on: load probability maps with their labels";
        return;
    }
    running_ = true;
}

void ValidationJob::cancel() {
    running_ = false;
    runs_.clear();
    error_ = "cancelled";
}

float ValidationJob::progress() const {
    // Reducing the cases is the first half of the work, the splits the second.
    if (next_name_ < names_.size() || splits_total_ == 0) {
        return names_.empty()
                   ? 0.0f
                   : 0.5f * static_cast<float>(next_name_) / static_cast<float>(names_.size());
    }
    return 0.5f + 0.5f * static_cast<float>(splits_done_) / static_cast<float>(splits_total_);
}

void ValidationJob::prepare_runs() {
    const bool mondrian = std::find(settings_.methods.begin(), settings_.methods.end(),
                                    EvaluationMethod::mondrian) != settings_.methods.end();
    if (mondrian && !cases_.empty()) mondrian_ = median_predicted_voxels_rule(cases_);
    auto set = EvaluationSet::create(std::move(cases_), settings_.empty_masks);
    cases_.clear();
    if (!set) {
        error_ = set.error().message;
        running_ = false;
        return;
    }
    set_ = std::move(*set);
    // One evaluation per method and alpha: an alpha (or a method) the calibration part is too
    // small for has no point, and does not stop the others.
    for (EvaluationMethod method : settings_.methods) {
        for (double alpha : kAlphas) {
            EvaluationSettings s =
                evaluation_settings(settings_, alpha, {method}, settings_.splits);
            if (method == EvaluationMethod::mondrian) s.mondrian = mondrian_;
            if (auto evaluation = Evaluation::start(*set_, s)) {
                runs_.push_back({method, alpha, std::move(*evaluation)});
                splits_total_ += settings_.splits;
            }
        }
    }
    // The scatter: the first split (the same in every run of a seed) at fixed 0.5 and CLS.
    auto scatter = Evaluation::start(
        *set_, evaluation_settings(settings_, settings_.alpha,
                                   {EvaluationMethod::fixed, EvaluationMethod::cls}, 1));
    if (!scatter) {
        error_ = scatter.error().message;
        running_ = false;
        runs_.clear();
        return;
    }
    runs_.push_back({EvaluationMethod::fixed, settings_.alpha, std::move(*scatter)});
    splits_total_ += 1;
}

void ValidationJob::advance(std::chrono::milliseconds budget) {
    if (!running_) return;
    const auto start = std::chrono::steady_clock::now();
    const auto in_budget = [&] { return std::chrono::steady_clock::now() - start < budget; };
    // In name order, as `cls evaluate` reads a folder, so a seed gives the CLI's numbers.
    while (next_name_ < names_.size() && in_budget()) {
        const LoadedCase* c = store_->find(names_[next_name_++]);
        if (!c || !c->calibrates()) continue;  // cleared or set aside meanwhile
        // The map as calibration reads it, restricted to the region of interest.
        std::optional<Volume> scratch;
        const Volume* probability = store_->calibration_map(*c, scratch);
        if (probability == nullptr) continue;  // not reachable: a labelled case has its region
        auto reduced = collect_evaluation_case(c->name, *probability, *c->volume(Role::label));
        if (!reduced) {
            error_ = reduced.error().message;
            running_ = false;
            return;
        }
        cases_.push_back(std::move(*reduced));
    }
    if (next_name_ < names_.size()) return;
    if (runs_.empty()) prepare_runs();
    for (Run& run : runs_) {
        while (!run.evaluation.done() && in_budget()) {
            run.evaluation.run_split();
            ++splits_done_;
        }
        if (!run.evaluation.done()) return;
    }
    if (running_) finish();
}

void ValidationJob::finish() {
    ValidationResult result;
    result.settings = settings_;
    if (mondrian_) result.mondrian_rule = to_string(*mondrian_);
    for (EvaluationMethod method : settings_.methods) result.curves.push_back({method, {}});
    for (const Run& run : runs_) {
        const EvaluationReport& report = run.evaluation.report();
        result.calibration_cases = report.calibration_cases;
        result.test_cases = report.test_cases;
        if (run.method == EvaluationMethod::fixed) {
            result.fixed_cases = scatter_of(*report.find(EvaluationMethod::fixed));
            result.cls_cases = scatter_of(*report.find(EvaluationMethod::cls));
            continue;
        }
        for (CoverageCurve& curve : result.curves) {
            if (curve.method == run.method) {
                curve.points.push_back({run.alpha, coverage_of(*report.find(run.method))});
            }
        }
    }
    result_ = std::move(result);
    runs_.clear();
    running_ = false;
}

}  // namespace cls::app
