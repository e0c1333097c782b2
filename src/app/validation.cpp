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
    s.splits = splits;
    s.calibration_fraction = v.calibration_fraction;
    s.seed = v.seed;
    return s;
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
    for (const LoadedCase& c : store.cases()) {
        if (c.labelled()) names_.push_back(c.name);
    }
    if (names_.empty()) {
        error_ = "no labelled case to validate on: load probability maps with their labels";
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
    if (next_name_ < names_.size() || runs_.empty()) {
        return names_.empty()
                   ? 0.0f
                   : 0.5f * static_cast<float>(next_name_) / static_cast<float>(names_.size());
    }
    const std::size_t total = runs_.size() * settings_.splits;
    return 0.5f + 0.5f * static_cast<float>(splits_done_) / static_cast<float>(total);
}

void ValidationJob::prepare_runs() {
    auto set = EvaluationSet::create(std::move(cases_), settings_.empty_masks);
    cases_.clear();
    if (!set) {
        error_ = set.error().message;
        running_ = false;
        return;
    }
    set_ = std::move(*set);
    for (double alpha : kAlphas) {
        const bool scatter = std::abs(alpha - settings_.alpha) < 1e-9;
        const EvaluationSettings s = evaluation_settings(
            settings_, alpha,
            scatter ? std::vector{EvaluationMethod::fixed, EvaluationMethod::cls}
                    : std::vector{EvaluationMethod::cls},
            settings_.splits);
        // An alpha the calibration part is too small for (k = 0) has no point on the curve.
        if (auto evaluation = Evaluation::start(*set_, s))
            runs_.push_back({alpha, std::move(*evaluation)});
    }
    if (std::none_of(runs_.begin(), runs_.end(),
                     [&](const Run& r) { return std::abs(r.alpha - settings_.alpha) < 1e-9; })) {
        // The scatter's alpha is not on the curve: one split of fixed and CLS for it.
        const EvaluationSettings s = evaluation_settings(
            settings_, settings_.alpha, {EvaluationMethod::fixed, EvaluationMethod::cls}, 1);
        auto evaluation = Evaluation::start(*set_, s);
        if (!evaluation) {
            error_ = evaluation.error().message;
            running_ = false;
            runs_.clear();
            return;
        }
        runs_.push_back({settings_.alpha, std::move(*evaluation)});
    }
}

void ValidationJob::advance(std::chrono::milliseconds budget) {
    if (!running_) return;
    const auto start = std::chrono::steady_clock::now();
    const auto in_budget = [&] { return std::chrono::steady_clock::now() - start < budget; };
    // In name order, as `cls evaluate` reads a folder, so a seed gives the CLI's numbers.
    while (next_name_ < names_.size() && in_budget()) {
        const LoadedCase* c = store_->find(names_[next_name_++]);
        if (!c || !c->labelled()) continue;  // cleared meanwhile
        auto reduced = collect_evaluation_case(c->name, *c->volume(Role::probability),
                                               *c->volume(Role::label));
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
    for (const Run& run : runs_) {
        const EvaluationReport& report = run.evaluation.report();
        result.calibration_cases = report.calibration_cases;
        result.test_cases = report.test_cases;
        const MethodReport* cls = report.find(EvaluationMethod::cls);
        if (report.settings.splits == settings_.splits) {
            result.coverage.push_back(
                {run.alpha, summarize(cls->splits, &SplitMetrics::coverage).mean});
        }
        if (const MethodReport* fixed = report.find(EvaluationMethod::fixed)) {
            result.fixed_cases = scatter_of(*fixed);
            result.cls_cases = scatter_of(*cls);
        }
    }
    result_ = std::move(result);
    runs_.clear();
    running_ = false;
}

}  // namespace cls::app
