#include "cls/evaluation.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <utility>

#include "cls/pac.hpp"
#include "fnr_sum.hpp"

namespace cls {

struct EvaluationSet::Data {
    std::vector<EvaluationCase> cases;
    EmptyMaskPolicy policy = EmptyMaskPolicy::satisfied;
    std::size_t empty_masks = 0;
    std::size_t excluded = 0;
    std::vector<detail::FnrStep> steps;  // every lesion voxel, by (value, case)
    std::vector<long double> weights;    // per case, 1 / lesion voxels
};

namespace {

std::string format_decimal(double x) {
    char text[32];
    std::snprintf(text, sizeof text, "%.9g", x);
    return text;
}

std::string format_bytes(std::size_t bytes) {
    char text[32];
    const double b = static_cast<double>(bytes);
    if (b >= (1u << 30)) {
        std::snprintf(text, sizeof text, "%.2f GiB", b / (1u << 30));
    } else {
        std::snprintf(text, sizeof text, "%.1f MiB", b / (1u << 20));
    }
    return text;
}

constexpr std::size_t kMaxSplits = 1'000'000;

bool uses_conformal_rank(EvaluationMethod m) {
    return m == EvaluationMethod::cls || m == EvaluationMethod::lesion_cls;
}

// What one method's test cases add up to in one split.
struct Tally {
    std::size_t cases = 0, covered = 0, lesion_covered = 0;
    std::size_t lesion_cases = 0, missed = 0, lesions = 0, detected = 0;
    double fnr = 0.0, fpr = 0.0, dice = 0.0, compactness = 0.0, lesion_fnr = 0.0;

    void add(const EvaluationCase& c, const CaseOutcome& o, double epsilon) {
        ++cases;
        covered += o.fnr <= epsilon;
        lesion_covered += o.lesion_fnr <= epsilon;
        lesion_cases += !c.empty_mask();
        missed += o.missed_lesion;
        lesions += c.lesions();
        detected += o.lesions_detected;
        fnr += o.fnr;
        fpr += o.fpr;
        dice += o.dice;
        compactness += o.compactness;
        lesion_fnr += o.lesion_fnr;
    }

    [[nodiscard]] SplitMetrics metrics(double threshold, double epsilon) const {
        const auto mean = [this](double sum) { return sum / static_cast<double>(cases); };
        SplitMetrics m;
        m.threshold = threshold;
        m.coverage = mean(static_cast<double>(covered));
        m.fnr = mean(fnr);
        m.fpr = mean(fpr);
        m.dice = mean(dice);
        m.missed_lesion_rate =
            lesion_cases == 0 ? 0.0
                              : static_cast<double>(missed) / static_cast<double>(lesion_cases);
        m.compactness = mean(compactness);
        m.lesion_detection_rate =
            lesions == 0 ? 1.0 : static_cast<double>(detected) / static_cast<double>(lesions);
        m.lesion_coverage = mean(static_cast<double>(lesion_covered));
        m.lesion_fnr = mean(lesion_fnr);
        m.risk_violation = m.fnr > epsilon ? 1.0 : 0.0;
        return m;
    }
};

// The k-th smallest (1-based) of `values`, which it reorders.
double kth_smallest(std::vector<double>& values, std::size_t k) {
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k - 1),
                     values.end());
    return values[k - 1];
}

}  // namespace

Status MemoryBudget::add(const EvaluationCase& c) {
    const std::size_t bytes = cost(c);
    if (used_ + bytes > limit_) {
        return make_error("evaluation would need more than " + format_bytes(limit_) +
                          " to keep the sorted probabilities of " + std::to_string(cases_ + 1) +
                          " cases (about 4 bytes a voxel); evaluate fewer cases, crop or "
                          "downsample them, or raise the memory limit")
            .in(c.name());
    }
    used_ += bytes;
    ++cases_;
    return Done{};
}

std::size_t MemoryBudget::cost(const EvaluationCase& c) {
    return c.memory_bytes() + c.lesion_voxels() * sizeof(detail::FnrStep) + sizeof(long double);
}

Result<EvaluationSet> EvaluationSet::create(std::vector<EvaluationCase> cases,
                                            EmptyMaskPolicy policy) {
    auto data = std::make_shared<Data>();
    data->policy = policy;
    for (EvaluationCase& c : cases) {
        if (c.empty_mask() && policy == EmptyMaskPolicy::exclude) {
            ++data->excluded;
            continue;
        }
        data->empty_masks += c.empty_mask();
        data->cases.push_back(std::move(c));
    }
    if (data->cases.empty()) {
        return make_error(data->excluded > 0
                              ? "every case has an empty mask, and empty masks are excluded"
                              : "there are no cases to evaluate");
    }
    if (data->cases.size() > std::numeric_limits<std::uint32_t>::max()) {
        return make_error("more than 2^32 cases cannot be evaluated at once");
    }
    std::vector<const LesionScores*> scores;
    scores.reserve(data->cases.size());
    for (const EvaluationCase& c : data->cases) scores.push_back(&c.lesion);
    data->steps = detail::fnr_steps(scores);
    data->weights = detail::fnr_step_weights(scores);
    EvaluationSet set;
    set.data_ = std::move(data);
    return set;
}

std::span<const EvaluationCase> EvaluationSet::cases() const { return data_->cases; }
EmptyMaskPolicy EvaluationSet::empty_mask_policy() const { return data_->policy; }
std::size_t EvaluationSet::empty_masks() const { return data_->empty_masks; }
std::size_t EvaluationSet::excluded_empty_masks() const { return data_->excluded; }

std::size_t calibration_cases(const EvaluationSettings& settings, std::size_t cases) {
    return floor_of_product(settings.calibration_fraction, cases);
}

Status validate(const EvaluationSettings& settings, std::size_t cases) {
    const CalibrationSettings calibration{.method = Method::cls,
                                          .epsilon = settings.epsilon,
                                          .alpha = settings.alpha,
                                          .empty_masks = EmptyMaskPolicy::satisfied,
                                          .fixed_threshold = settings.fixed_threshold};
    if (Status valid = validate(calibration); !valid) return valid.error();
    if (settings.methods.empty()) return make_error("no method to evaluate");
    for (std::size_t i = 0; i < settings.methods.size(); ++i) {
        if (std::count(settings.methods.begin(), settings.methods.begin() + i,
                       settings.methods[i]) > 0) {
            return make_error("method '" + std::string(to_string(settings.methods[i])) +
                              "' is listed twice");
        }
    }
    // Every split's metrics are kept (about 100 bytes a method), hence a ceiling.
    if (settings.splits == 0 || settings.splits > kMaxSplits) {
        return make_error("the number of splits must be from 1 to " + std::to_string(kMaxSplits) +
                          ", got " + std::to_string(settings.splits));
    }
    if (!(settings.calibration_fraction > 0.0 && settings.calibration_fraction < 1.0)) {
        return make_error("the calibration share must be in (0, 1), got " +
                          format_decimal(settings.calibration_fraction));
    }
    const std::size_t n = calibration_cases(settings, cases);
    const std::string share = "a calibration share of " +
                              format_decimal(settings.calibration_fraction) + " of " +
                              std::to_string(cases) + " cases gives " + std::to_string(n);
    if (n == 0 || n == cases) {
        return make_error(share + " calibration cases, leaving no " +
                          (n == 0 ? "calibration" : "test") + " case");
    }
    for (EvaluationMethod m : settings.methods) {
        const std::string method(to_string(m));
        if (uses_conformal_rank(m) && conformal_rank(n, settings.alpha) == 0) {
            return make_error(method + " with alpha = " + format_decimal(settings.alpha) +
                              " needs at least " +
                              std::to_string(minimum_calibration_cases(settings.alpha)) +
                              " calibration cases (k = floor((n+1)*alpha) must be >= 1); " + share);
        }
        if (m == EvaluationMethod::crc) {
            if (auto budget = detail::crc_fnr_budget(n, settings.epsilon); !budget) {
                return budget.error().in(method);
            }
        }
        if (m == EvaluationMethod::pac) {
            auto budget = hoeffding_bentkus_fnr_budget(n, settings.epsilon, settings.delta);
            if (!budget) return budget.error().in(method);
        }
        if (m == EvaluationMethod::mondrian && !settings.mondrian) {
            return make_error("the mondrian method needs a grouping rule");
        }
    }
    return Done{};
}

Split random_split(std::size_t cases, std::size_t calibration_cases, Random& rng) {
    std::vector<std::size_t> order(cases);
    for (std::size_t i = 0; i < cases; ++i) order[i] = i;
    for (std::size_t i = cases; i > 1; --i) {
        std::swap(order[i - 1], order[rng.below(i)]);
    }
    std::vector<std::uint8_t> calibrates(cases, 0);
    for (std::size_t i = 0; i < calibration_cases; ++i) calibrates[order[i]] = 1;
    Split split;
    split.calibration.reserve(calibration_cases);
    split.test.reserve(cases - calibration_cases);
    for (std::size_t i = 0; i < cases; ++i) {
        (calibrates[i] ? split.calibration : split.test).push_back(i);
    }
    return split;
}

Evaluation::Evaluation(EvaluationSet set, EvaluationReport report)
    : set_(std::move(set)), report_(std::move(report)), rng_(report_.settings.seed) {}

Result<Evaluation> Evaluation::start(EvaluationSet set, EvaluationSettings settings) {
    if (Status valid = validate(settings, set.size()); !valid) return valid.error();
    EvaluationReport report;
    report.cases = set.size();
    report.calibration_cases = calibration_cases(settings, set.size());
    report.test_cases = set.size() - report.calibration_cases;
    report.empty_mask_policy = set.empty_mask_policy();
    report.empty_masks = set.empty_masks();
    report.excluded_empty_masks = set.excluded_empty_masks();

    report.settings = std::move(settings);
    Evaluation e(std::move(set), std::move(report));
    EvaluationReport& r = e.report_;
    const EvaluationSettings& s = r.settings;
    const std::span<const EvaluationCase> cases = e.set_.cases();
    for (const EvaluationCase& c : cases) {
        e.critical_.push_back(critical_threshold(c.lesion.sorted_lesion_probabilities, s.epsilon));
        e.lesion_critical_.push_back(critical_threshold(c.sorted_lesion_maxima, s.epsilon));
    }
    if (s.mondrian) {
        r.group_cases.assign(s.mondrian->groups(), 0);
        for (const EvaluationCase& c : cases) {
            e.group_.push_back(mondrian_group(*s.mondrian, c));
            ++r.group_cases[e.group_.back()];
        }
    }
    for (EvaluationMethod m : s.methods) {
        if (m == EvaluationMethod::crc) {
            e.crc_budget_ = *detail::crc_fnr_budget(r.calibration_cases, s.epsilon);
        }
        if (m == EvaluationMethod::pac) {
            e.pac_budget_ = *hoeffding_bentkus_fnr_budget(r.calibration_cases, s.epsilon, s.delta);
        }
        MethodReport method{.method = m, .splits = {}, .groups = {}, .first_split = {}};
        method.splits.reserve(s.splits);
        if (s.mondrian) {
            for (std::size_t g = 0; g < s.mondrian->groups(); ++g) {
                method.groups.push_back({.name = mondrian_group_name(*s.mondrian, g),
                                         .splits = {},
                                         .calibration_cases = 0,
                                         .test_cases = 0,
                                         .fallback_splits = 0});
            }
        }
        r.methods.push_back(std::move(method));
    }
    e.member_.assign(cases.size(), 0);
    return e;
}

Evaluation::Thresholds Evaluation::calibrate_split(EvaluationMethod method, const Split& split) {
    const EvaluationSettings& s = report_.settings;
    const EvaluationSet::Data& data = set_.data();
    const auto is_member = [this](std::uint32_t i) { return member_[i] != 0; };
    const auto conformal = [&](const std::vector<double>& per_case,
                               const std::vector<std::size_t>& calibration) {
        order_scratch_.clear();
        for (std::size_t i : calibration) order_scratch_.push_back(per_case[i]);
        return kth_smallest(order_scratch_, conformal_rank(calibration.size(), s.alpha));
    };
    switch (method) {
        case EvaluationMethod::fixed:
            return {{s.fixed_threshold}, {false}};
        case EvaluationMethod::cls:
            return {{conformal(critical_, split.calibration)}, {false}};
        case EvaluationMethod::lesion_cls:
            return {{conformal(lesion_critical_, split.calibration)}, {false}};
        case EvaluationMethod::crc:
            return {{detail::largest_threshold_within(data.steps, data.weights, is_member,
                                                      crc_budget_)},
                    {false}};
        case EvaluationMethod::pac:
            return {{detail::largest_threshold_within(data.steps, data.weights, is_member,
                                                      pac_budget_)},
                    {false}};
        case EvaluationMethod::mondrian:
            break;
    }
    Thresholds result;
    for (std::size_t g = 0; g < s.mondrian->groups(); ++g) {
        std::vector<std::size_t> in_group;
        for (std::size_t i : split.calibration) {
            if (group_[i] == g) in_group.push_back(i);
        }
        // k = 0: no order statistic is conservative enough, but predicting every voxel is.
        const bool fallback = conformal_rank(in_group.size(), s.alpha) == 0;
        result.per_group.push_back(fallback ? 0.0 : conformal(critical_, in_group));
        result.fallback.push_back(fallback);
    }
    return result;
}

void Evaluation::measure_split(MethodReport& report, const Thresholds& thresholds,
                               const Split& split) {
    const double epsilon = report_.settings.epsilon;
    const std::span<const EvaluationCase> cases = set_.cases();
    const bool per_group_threshold = report.method == EvaluationMethod::mondrian;
    Tally all;
    std::vector<Tally> groups(report.groups.size());
    for (std::size_t i : split.test) {
        const std::size_t group = group_.empty() ? 0 : group_[i];
        const double t = thresholds.per_group[per_group_threshold ? group : 0];
        const CaseOutcome outcome = outcome_at(cases[i], t);
        all.add(cases[i], outcome, epsilon);
        if (!groups.empty()) groups[group].add(cases[i], outcome, epsilon);
        if (done_ == 0) report.first_split.push_back({i, t, outcome});
    }
    const double nan = std::numeric_limits<double>::quiet_NaN();
    report.splits.push_back(
        all.metrics(per_group_threshold ? nan : thresholds.per_group[0], epsilon));
    for (std::size_t g = 0; g < groups.size(); ++g) {
        GroupReport& group = report.groups[g];
        const std::size_t index = per_group_threshold ? g : 0;
        group.test_cases += groups[g].cases;
        group.fallback_splits += per_group_threshold && thresholds.fallback[index];
        if (groups[g].cases > 0) {
            group.splits.push_back(groups[g].metrics(thresholds.per_group[index], epsilon));
        }
    }
}

void Evaluation::run_split() {
    if (done()) return;
    const Split split = random_split(report_.cases, report_.calibration_cases, rng_);
    for (std::size_t i : split.calibration) member_[i] = 1;
    for (MethodReport& method : report_.methods) {
        for (std::size_t g = 0; g < method.groups.size(); ++g) {
            for (std::size_t i : split.calibration)
                method.groups[g].calibration_cases += group_[i] == g;
        }
        measure_split(method, calibrate_split(method.method, split), split);
    }
    for (std::size_t i : split.calibration) member_[i] = 0;
    ++done_;
}

Result<EvaluationReport> evaluate(const EvaluationSet& set, const EvaluationSettings& settings) {
    auto evaluation = Evaluation::start(set, settings);
    if (!evaluation) return evaluation.error();
    while (!evaluation->done()) evaluation->run_split();
    return evaluation->report();
}

}  // namespace cls
