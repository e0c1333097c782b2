// Evaluation of calibration methods over R random calibration/test splits of one labelled
// set: for each split, each method calibrates a threshold on the calibration part and is
// measured on the test part; each metric is then summarised over the splits (mean, standard
// deviation, 5th and 95th percentiles). Cases are reduced once to EvaluationCase (sorted
// probabilities, lesion maxima), so a split costs a few binary searches a case.
// Methods (all exact, on the data's own values):
//   fixed       the threshold `fixed_threshold` (0.5)
//   cls         the conformal quantile of critical thresholds, as calibrate()
//   crc         conformal risk control of expected FNR, as crc_threshold()
//   lesion-cls  CLS for lesion-level FNR, the fraction of ground-truth lesions (26-connected
//               components) not detected: P(lesion FNR <= epsilon) >= 1 - alpha
//   pac         expected FNR <= epsilon with probability >= 1 - delta (Hoeffding–Bentkus,
//               see pac.hpp)
//   mondrian    CLS within each group of a MondrianRule (see mondrian.hpp); a group whose
//               calibration part is too small for k >= 1 predicts every voxel (t = 0, FNR 0)
//               in that split, the one threshold that keeps its promise, and is counted
// Splits are deterministic for a seed on every platform: cls::Random, Fisher–Yates from the
// identity for each split in turn, the first floor(fraction * n) positions calibrate. With
// EmptyMaskPolicy::exclude, cases with empty masks are left out before splitting.
// Memory is about 4 bytes a voxel plus 12 a lesion voxel (MemoryBudget refuses past a limit).
// [X] fixed, cls, crc, lesion-cls, pac, mondrian; per-group metrics for every method
// [X] incremental runs (one split a step) for a UI that never waits
// [ ] bootstrap (with replacement) splits
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cls/calibration.hpp"
#include "cls/enum_names.hpp"
#include "cls/evaluation_case.hpp"
#include "cls/mondrian.hpp"
#include "cls/random.hpp"
#include "cls/result.hpp"

namespace cls {

enum class EvaluationMethod { fixed, cls, crc, lesion_cls, pac, mondrian };
inline constexpr EnumTable<EvaluationMethod, 6> kEvaluationMethodNames{
    {{EvaluationMethod::fixed, "fixed"},
     {EvaluationMethod::cls, "cls"},
     {EvaluationMethod::crc, "crc"},
     {EvaluationMethod::lesion_cls, "lesion-cls"},
     {EvaluationMethod::pac, "pac"},
     {EvaluationMethod::mondrian, "mondrian"}}};

[[nodiscard]] std::string_view to_string(EvaluationMethod method);
[[nodiscard]] Result<EvaluationMethod> parse_evaluation_method(std::string_view text);
// "fixed,cls,crc": no repeats, at least one.
[[nodiscard]] Result<std::vector<EvaluationMethod>> parse_evaluation_methods(std::string_view text);

inline constexpr std::size_t kDefaultEvaluationMemoryLimit = std::size_t{4} << 30;  // 4 GiB

// Counts what a growing set of cases will hold, so that loading stops with a clear message
// before memory runs out instead of after.
class MemoryBudget {
public:
    explicit MemoryBudget(std::size_t limit_bytes) : limit_(limit_bytes) {}
    // Refuses the case that would pass the limit; the error names it and what to do.
    [[nodiscard]] Status add(const EvaluationCase& c);
    [[nodiscard]] std::size_t used_bytes() const { return used_; }
    // What a case costs evaluation: its own memory and its lesion voxels' sweep steps.
    [[nodiscard]] static std::size_t cost(const EvaluationCase& c);

private:
    std::size_t limit_;
    std::size_t used_ = 0;
    std::size_t cases_ = 0;
};

// The labelled cases, and the order in which CRC and PAC sweep all their lesion voxels,
// computed once for every split and setting. Cheap to copy (shared, immutable).
class EvaluationSet {
public:
    // Leaves out empty masks first under EmptyMaskPolicy::exclude; refuses an empty set.
    [[nodiscard]] static Result<EvaluationSet> create(std::vector<EvaluationCase> cases,
                                                      EmptyMaskPolicy policy);

    [[nodiscard]] std::span<const EvaluationCase> cases() const;
    [[nodiscard]] std::size_t size() const { return cases().size(); }
    [[nodiscard]] EmptyMaskPolicy empty_mask_policy() const;
    [[nodiscard]] std::size_t empty_masks() const;           // kept (policy satisfied)
    [[nodiscard]] std::size_t excluded_empty_masks() const;  // left out (policy exclude)

    struct Data;
    [[nodiscard]] const Data& data() const { return *data_; }

private:
    std::shared_ptr<const Data> data_;
};

struct EvaluationSettings {
    std::vector<EvaluationMethod> methods{EvaluationMethod::fixed, EvaluationMethod::cls,
                                          EvaluationMethod::crc};
    double epsilon = 0.1;          // FNR (or lesion FNR) tolerance
    double alpha = 0.1;            // risk level of the CLS-type guarantees
    double delta = 0.1;            // pac: the chance the calibration set may be a bad one
    double fixed_threshold = 0.5;  // fixed
    std::size_t splits = 100;
    double calibration_fraction = 0.5;  // floor(fraction * n) cases calibrate
    std::uint64_t seed = 1;
    std::optional<MondrianRule> mondrian;  // needed by mondrian; groups every method's metrics
};

// floor(calibration_fraction * cases), read as a nine-place decimal like epsilon.
[[nodiscard]] std::size_t calibration_cases(const EvaluationSettings& settings, std::size_t cases);

// Ranges, and that every method can calibrate on the calibration part (CLS-type methods need
// k = floor((n+1) alpha) >= 1, CRC 1/(n+1) <= epsilon, PAC its minimum n): the message says
// how many cases are needed.
[[nodiscard]] Status validate(const EvaluationSettings& settings, std::size_t cases);

struct Split {
    std::vector<std::size_t> calibration;  // ascending case indices
    std::vector<std::size_t> test;         // ascending, the rest
};

// Fisher–Yates from the identity with rng.below(); the first `calibration_cases` positions.
[[nodiscard]] Split random_split(std::size_t cases, std::size_t calibration_cases, Random& rng);

// One method on one split's test cases. Rates over cases are means of per-case values:
//   coverage             cases with FNR <= epsilon (empty masks have FNR 0)
//   fnr, fpr, dice, compactness, lesion_fnr    as CaseOutcome
//   missed_lesion_rate   of the cases with a lesion, those with FNR = 1 (0 if none has one)
//   lesion_detection_rate  detected ground-truth lesions over all of them, pooled over the
//                        split's cases (1 if there is none)
//   lesion_coverage      cases with lesion FNR <= epsilon
//   risk_violation       1 when the mean FNR exceeds epsilon, else 0: its mean over splits is
//                        how often a split breaks the expected-FNR target of crc and pac
//   threshold            +inf means "predict nothing"; NaN for mondrian (one per group)
struct SplitMetrics {
    double threshold = 0.0;
    double coverage = 0.0;
    double fnr = 0.0;
    double fpr = 0.0;
    double dice = 0.0;
    double missed_lesion_rate = 0.0;
    double compactness = 0.0;
    double lesion_detection_rate = 0.0;
    double lesion_coverage = 0.0;
    double lesion_fnr = 0.0;
    double risk_violation = 0.0;
};

struct MetricField {
    std::string_view name;
    double SplitMetrics::*member;
};
// Every field of SplitMetrics with its name, in declaration order (for JSON, CSV and tables).
[[nodiscard]] std::span<const MetricField> split_metric_fields();

struct Summary {
    double mean = 0.0;
    double std = 0.0;  // sample standard deviation (R - 1); 0 for one split
    double p5 = 0.0;   // percentiles with linear interpolation (numpy's default)
    double p95 = 0.0;
};
// Infinite values make the mean infinite and the standard deviation NaN; no values, or a NaN
// among them (mondrian's threshold), make every field NaN.
[[nodiscard]] Summary summarize(std::vector<double> values);
[[nodiscard]] Summary summarize(std::span<const SplitMetrics> splits, double SplitMetrics::*field);

struct CaseResult {
    std::size_t case_index = 0;
    double threshold = 0.0;
    CaseOutcome outcome;
};

struct GroupReport {
    std::string name;
    std::vector<SplitMetrics> splits;   // only the splits in which the group had test cases
    std::size_t calibration_cases = 0;  // summed over all splits
    std::size_t test_cases = 0;         // summed over all splits
    std::size_t fallback_splits = 0;    // mondrian: splits with k = 0 in this group
};

struct MethodReport {
    EvaluationMethod method = EvaluationMethod::cls;
    std::vector<SplitMetrics> splits;
    std::vector<GroupReport> groups;      // one per Mondrian group when a rule is set
    std::vector<CaseResult> first_split;  // every test case of the first split
};

struct EvaluationReport {
    EvaluationSettings settings;
    std::size_t cases = 0;
    std::size_t calibration_cases = 0;
    std::size_t test_cases = 0;
    EmptyMaskPolicy empty_mask_policy = EmptyMaskPolicy::satisfied;
    std::size_t empty_masks = 0;           // among the cases
    std::size_t excluded_empty_masks = 0;  // left out before splitting
    std::vector<std::size_t> group_cases;  // cases per Mondrian group, when a rule is set
    std::vector<MethodReport> methods;     // in the order of settings.methods

    [[nodiscard]] const MethodReport* find(EvaluationMethod method) const;
};

// Runs the splits one at a time, so that a UI can interleave them with frames.
class Evaluation {
public:
    [[nodiscard]] static Result<Evaluation> start(EvaluationSet set, EvaluationSettings settings);

    void run_split();  // one more split; does nothing once done()
    [[nodiscard]] bool done() const { return done_ == report_.settings.splits; }
    [[nodiscard]] std::size_t splits_done() const { return done_; }
    [[nodiscard]] const EvaluationReport& report() const { return report_; }

private:
    struct Thresholds {
        std::vector<double> per_group;  // one, or one per Mondrian group
        std::vector<bool> fallback;     // mondrian: the group had k = 0
    };

    Evaluation(EvaluationSet set, EvaluationReport report);
    Thresholds calibrate_split(EvaluationMethod method, const Split& split);
    void measure_split(MethodReport& report, const Thresholds& thresholds, const Split& split);

    EvaluationSet set_;
    EvaluationReport report_;
    Random rng_;
    std::size_t done_ = 0;
    std::vector<double> critical_;         // per case, at epsilon
    std::vector<double> lesion_critical_;  // per case, lesion level, at epsilon
    std::vector<std::size_t> group_;       // per case, when a Mondrian rule is set
    long double crc_budget_ = 0.0L;
    long double pac_budget_ = 0.0L;
    std::vector<std::uint8_t> member_;   // scratch: calibration membership
    std::vector<double> order_scratch_;  // scratch: critical thresholds of a split
};

// Runs every split.
[[nodiscard]] Result<EvaluationReport> evaluate(const EvaluationSet& set,
                                                const EvaluationSettings& settings);

}  // namespace cls
