#include "cls/report/paper_suite.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <utility>

#include "cls/report/evaluation_plots.hpp"
#include "cls/report/evaluation_report.hpp"
#include "cls/report/svg_plot.hpp"
#include "cls/version.hpp"

namespace cls::report {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr const char* kInk = "#333333";
constexpr const char* kGrey = "#999999";

std::string format(const char* pattern, double x) {
    char text[64];
    std::snprintf(text, sizeof text, pattern, x);
    return text;
}

std::string mean_and_spread(const Summary& s) {
    return format("%.3f", s.mean) + " ± " + format("%.3f", s.std);
}

std::string csv_number(double x) { return std::isfinite(x) ? format("%.17g", x) : ""; }

// A pipe would end a Markdown table cell.
std::string markdown_cell(const std::string& text) {
    std::string out;
    for (char c : text) out += c == '|' ? std::string("\\|") : std::string(1, c);
    return out;
}

std::vector<double> steps(double first, double last, double step) {
    std::vector<double> values;
    for (int i = 0; first + i * step <= last + 1e-9; ++i) {
        // Rounded to the grid's decimals, so that 0.1 * 3 is the 0.3 a user would type.
        values.push_back(std::round((first + i * step) * 1e6) / 1e6);
    }
    return values;
}

// Runs the experiments' evaluations, counting them for progress and noting any the data
// cannot support.
class Suite {
public:
    Suite(const EvaluationSet& set, const PaperSuiteSettings& settings,
          const std::function<void(std::size_t, std::size_t)>& progress, std::size_t total)
        : set_(set), settings_(settings), progress_(progress), total_(total) {}

    [[nodiscard]] EvaluationSettings base(double epsilon, double alpha) const {
        EvaluationSettings s;
        s.epsilon = epsilon;
        s.alpha = alpha;
        s.splits = settings_.splits;
        s.seed = settings_.seed;
        s.calibration_fraction = settings_.calibration_fraction;
        s.fixed_threshold = settings_.fixed_threshold;
        return s;
    }

    std::optional<EvaluationReport> run(const EvaluationSettings& s, const std::string& what) {
        auto report = evaluate(set_, s);
        ++done_;
        if (progress_) progress_(done_, total_);
        if (!report) {
            notes_.push_back(what + ": " + report.error().message);
            return std::nullopt;
        }
        return std::move(*report);
    }

    [[nodiscard]] std::string subtitle(const std::string& settings) const {
        const std::size_t n_cal = calibration_cases(base(0.1, 0.1), set_.size());
        return settings + "; " + std::to_string(set_.size()) + " cases, " +
               std::to_string(settings_.splits) + " splits " + std::to_string(n_cal) + "/" +
               std::to_string(set_.size() - n_cal) + ", seed " + std::to_string(settings_.seed);
    }

    void add(std::string name, std::string content) {
        files_.push_back({std::move(name), std::move(content)});
    }
    [[nodiscard]] const EvaluationSet& set() const { return set_; }
    [[nodiscard]] const std::vector<std::string>& notes() const { return notes_; }
    [[nodiscard]] std::vector<ReportFile>& files() { return files_; }

private:
    const EvaluationSet& set_;
    const PaperSuiteSettings& settings_;
    const std::function<void(std::size_t, std::size_t)>& progress_;
    std::size_t total_;
    std::size_t done_ = 0;
    std::vector<std::string> notes_;
    std::vector<ReportFile> files_;
};

const std::vector<double> kTableEpsilons = {0.1, 0.3, 0.5};
const std::vector<double> kAlphas = steps(0.1, 0.9, 0.1);
const std::vector<double> kShares = steps(0.1, 0.9, 0.1);
const std::vector<double> kGridEpsilons = steps(0.05, 0.5, 0.05);
const std::vector<double> kGridAlphas = steps(0.05, 0.5, 0.05);

// Voxel FNR and missed-lesion rate at alpha 0.2; returns the Markdown table.
std::string table_fnr_missed(Suite& suite) {
    std::string md =
        "| epsilon | method | voxel FNR | missed-lesion rate | coverage (FNR <= epsilon) | "
        "threshold |\n|---:|:---|---:|---:|---:|---:|\n";
    std::string csv =
        "epsilon,alpha,method,fnr_mean,fnr_std,missed_lesion_rate_mean,missed_lesion_rate_std,"
        "coverage_mean,coverage_std,threshold_mean\n";
    for (double epsilon : kTableEpsilons) {
        for (EvaluationMethod m :
             {EvaluationMethod::fixed, EvaluationMethod::cls, EvaluationMethod::crc}) {
            EvaluationSettings s = suite.base(epsilon, 0.2);
            s.methods = {m};
            const std::string name(to_string(m));
            auto report = suite.run(s, "table, epsilon " + format("%g", epsilon) + ", " + name);
            if (!report) continue;
            const auto& splits = report->methods[0].splits;
            const Summary fnr = summarize(splits, &SplitMetrics::fnr);
            const Summary missed = summarize(splits, &SplitMetrics::missed_lesion_rate);
            const Summary coverage = summarize(splits, &SplitMetrics::coverage);
            const Summary threshold = summarize(splits, &SplitMetrics::threshold);
            md += "| " + format("%g", epsilon) + " | " + name + " | " + mean_and_spread(fnr) +
                  " | " + mean_and_spread(missed) + " | " + mean_and_spread(coverage) + " | " +
                  (std::isfinite(threshold.mean) ? format("%.4g", threshold.mean) : "inf") + " |\n";
            csv += format("%g", epsilon) + ",0.2," + name + "," + csv_number(fnr.mean) + "," +
                   csv_number(fnr.std) + "," + csv_number(missed.mean) + "," +
                   csv_number(missed.std) + "," + csv_number(coverage.mean) + "," +
                   csv_number(coverage.std) + "," + csv_number(threshold.mean) + "\n";
        }
    }
    suite.add("table_fnr_missed.md", md);
    suite.add("table_fnr_missed.csv", csv);
    return md;
}

void coverage_vs_alpha(Suite& suite) {
    constexpr double kEpsilon = 0.4;
    Chart chart;
    chart.title = "Coverage against alpha (epsilon = 0.4)";
    chart.subtitle = suite.subtitle("share of test cases with FNR <= 0.4");
    chart.x = {"alpha (risk level)", 0.0, 1.0};
    chart.y = {"coverage", 0.0, 1.0};
    chart.legend = LegendPlace::bottom_left;
    Series cls{"CLS", {}, {}, Mark::line_and_points, method_colour(EvaluationMethod::cls),
               false, 1.0};
    Series lower{"1 - alpha", {}, {}, Mark::line, kInk, true, 1.0};
    Series upper{"1 - alpha + 1/(n+1)", {}, {}, Mark::line, kGrey, true, 1.0};
    chart.series = {cls, lower, upper};

    // Fixed and CRC do not depend on alpha: one evaluation, drawn flat.
    EvaluationSettings flat = suite.base(kEpsilon, 0.1);
    flat.methods = {EvaluationMethod::fixed, EvaluationMethod::crc};
    double fixed_coverage = kNaN, crc_coverage = kNaN;
    if (auto report = suite.run(flat, "coverage against alpha, fixed and crc")) {
        fixed_coverage = summarize(report->methods[0].splits, &SplitMetrics::coverage).mean;
        crc_coverage = summarize(report->methods[1].splits, &SplitMetrics::coverage).mean;
        chart.series.push_back({"fixed 0.5",
                                {0.0, 1.0},
                                {fixed_coverage, fixed_coverage},
                                Mark::line,
                                method_colour(EvaluationMethod::fixed),
                                false,
                                1.0});
        chart.series.push_back({"CRC (no alpha)",
                                {0.0, 1.0},
                                {crc_coverage, crc_coverage},
                                Mark::line,
                                method_colour(EvaluationMethod::crc),
                                false,
                                1.0});
    }

    std::string csv =
        "alpha,cls_coverage_mean,cls_coverage_std,cls_coverage_p5,cls_coverage_p95,"
        "lower_bound,upper_bound,fixed_coverage_mean,crc_coverage_mean\n";
    for (double alpha : kAlphas) {
        EvaluationSettings s = suite.base(kEpsilon, alpha);
        s.methods = {EvaluationMethod::cls};
        auto report = suite.run(s, "coverage against alpha, alpha " + format("%g", alpha));
        const double n = static_cast<double>(calibration_cases(s, suite.set().size()));
        const double upper_bound = 1.0 - alpha + 1.0 / (n + 1.0);
        const Summary c = report ? summarize(report->methods[0].splits, &SplitMetrics::coverage)
                                 : Summary{kNaN, kNaN, kNaN, kNaN};
        for (auto [series, y] :
             {std::pair{0, c.mean}, std::pair{1, 1.0 - alpha}, std::pair{2, upper_bound}}) {
            chart.series[series].x.push_back(alpha);
            chart.series[series].y.push_back(y);
        }
        csv += format("%g", alpha) + "," + csv_number(c.mean) + "," + csv_number(c.std) + "," +
               csv_number(c.p5) + "," + csv_number(c.p95) + "," + csv_number(1.0 - alpha) + "," +
               csv_number(upper_bound) + "," + csv_number(fixed_coverage) + "," +
               csv_number(crc_coverage) + "\n";
    }
    suite.add("coverage_vs_alpha.svg", render_svg(chart));
    suite.add("coverage_vs_alpha.csv", csv);
}

void fnr_fpr_scatter(Suite& suite) {
    EvaluationSettings s = suite.base(0.3, 0.2);
    s.methods = {EvaluationMethod::fixed, EvaluationMethod::cls};
    auto report = suite.run(s, "FNR against FPR");
    if (!report) return;
    Chart chart;
    chart.title = "Per-case FNR against FPR, fixed 0.5 vs CLS";
    chart.subtitle = suite.subtitle("epsilon 0.3, alpha 0.2, first split's test cases");
    chart.x = {"FNR (share of lesion voxels missed)", 0.0, 1.0};
    chart.y = {"FPR (share of background voxels predicted)", 0.0, std::nullopt};
    chart.legend = LegendPlace::top_right;
    std::string csv = "case,method,threshold,fnr,fpr,dice\n";
    for (std::size_t i = 0; i < report->methods.size(); ++i) {
        const MethodReport& m = report->methods[i];
        Series points{i == 0 ? "fixed 0.5" : "CLS", {},    {}, Mark::points,
                      method_colour(m.method),      false, 0.7};
        for (const CaseResult& c : m.first_split) {
            points.x.push_back(c.outcome.fnr);
            points.y.push_back(c.outcome.fpr);
            csv += suite.set().cases()[c.case_index].name() + "," +
                   std::string(to_string(m.method)) + "," + csv_number(c.threshold) + "," +
                   csv_number(c.outcome.fnr) + "," + csv_number(c.outcome.fpr) + "," +
                   csv_number(c.outcome.dice) + "\n";
        }
        chart.series.push_back(std::move(points));
    }
    // The axis ends on the first tick above every point, and the epsilon line spans it.
    double top = 0.0;
    for (const Series& p : chart.series) {
        for (double y : p.y) top = std::max(top, y);
    }
    if (top <= 0.0) top = 1.0;
    const std::vector<double> ticks = nice_ticks(0.0, top, 6);
    const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : top;
    chart.y.max = std::ceil(top / step - 1e-9) * step;
    chart.series.push_back(
        {"epsilon = 0.3", {0.3, 0.3}, {0.0, *chart.y.max}, Mark::line, kInk, true, 1.0});
    suite.add("fnr_fpr_scatter.svg", render_svg(chart));
    suite.add("fnr_fpr_scatter.csv", csv);
}

void compactness_heatmap(Suite& suite) {
    HeatMap map;
    map.title = "CLS: voxels predicted (%) over epsilon x alpha";
    map.subtitle = suite.subtitle("mean compactness of the test cases");
    map.x_label = "alpha (risk level)";
    map.y_label = "epsilon (FNR tolerance)";
    map.value_label = "% voxels";
    map.decimals = 2;
    std::string csv = "epsilon,alpha,compactness_mean,compactness_std,coverage_mean\n";
    for (double a : kGridAlphas) map.columns.push_back(format("%g", a));
    for (double epsilon : kGridEpsilons) {
        map.rows.push_back(format("%g", epsilon));
        for (double alpha : kGridAlphas) {
            EvaluationSettings s = suite.base(epsilon, alpha);
            s.methods = {EvaluationMethod::cls};
            auto report = suite.run(s, "compactness, epsilon " + format("%g", epsilon) +
                                           ", alpha " + format("%g", alpha));
            const Summary c = report
                                  ? summarize(report->methods[0].splits, &SplitMetrics::compactness)
                                  : Summary{kNaN, kNaN, kNaN, kNaN};
            const double coverage =
                report ? summarize(report->methods[0].splits, &SplitMetrics::coverage).mean : kNaN;
            map.values.push_back(100.0 * c.mean);
            csv += format("%g", epsilon) + "," + format("%g", alpha) + "," + csv_number(c.mean) +
                   "," + csv_number(c.std) + "," + csv_number(coverage) + "\n";
        }
    }
    suite.add("compactness_heatmap.svg", render_svg(map));
    suite.add("compactness_heatmap.csv", csv);
}

void coverage_vs_share(Suite& suite) {
    constexpr double kEpsilon = 0.4, kAlpha = 0.1;
    Chart chart;
    chart.title = "Coverage against the calibration share";
    chart.subtitle = suite.subtitle("epsilon 0.4, alpha 0.1, the other cases test");
    chart.x = {"share of cases that calibrate", 0.0, 1.0};
    chart.y = {"coverage", std::nullopt, 1.0};
    Series cls{"CLS", {}, {}, Mark::line_and_points, method_colour(EvaluationMethod::cls),
               false, 1.0};
    Series p5{"CLS 5th / 95th percentile", {}, {}, Mark::line, "#8fb8d9", true, 1.0};
    Series p95{"", {}, {}, Mark::line, "#8fb8d9", true, 1.0};
    Series lower{"1 - alpha", {0.0, 1.0}, {1.0 - kAlpha, 1.0 - kAlpha}, Mark::line, kInk,
                 true,        1.0};
    Series upper{"1 - alpha + 1/(n+1)", {}, {}, Mark::line, kGrey, true, 1.0};
    std::string csv =
        "calibration_share,n_cal,n_test,coverage_mean,coverage_std,coverage_p5,"
        "coverage_p95,upper_bound\n";
    for (double share : kShares) {
        EvaluationSettings s = suite.base(kEpsilon, kAlpha);
        s.methods = {EvaluationMethod::cls};
        s.calibration_fraction = share;
        auto report =
            suite.run(s, "coverage against the calibration share, share " + format("%g", share));
        const std::size_t n = calibration_cases(s, suite.set().size());
        const double bound = 1.0 - kAlpha + 1.0 / static_cast<double>(n + 1);
        upper.x.push_back(share), upper.y.push_back(bound);
        const Summary c = report ? summarize(report->methods[0].splits, &SplitMetrics::coverage)
                                 : Summary{kNaN, kNaN, kNaN, kNaN};
        cls.x.push_back(share), cls.y.push_back(c.mean);
        p5.x.push_back(share), p5.y.push_back(c.p5);
        p95.x.push_back(share), p95.y.push_back(c.p95);
        csv += format("%g", share) + "," + std::to_string(n) + "," +
               std::to_string(suite.set().size() - n) + "," + csv_number(c.mean) + "," +
               csv_number(c.std) + "," + csv_number(c.p5) + "," + csv_number(c.p95) + "," +
               csv_number(bound) + "\n";
    }
    // Room under the lowest percentile for the legend.
    double lowest = 1.0;
    for (double y : p5.y) lowest = std::isfinite(y) ? std::min(lowest, y) : lowest;
    chart.y.min = std::max(0.0, std::floor((lowest - 0.6 * (1.0 - lowest)) * 20.0) / 20.0);
    chart.series = {cls, p5, p95, lower, upper};
    suite.add("coverage_vs_calibration_share.svg", render_svg(chart));
    suite.add("coverage_vs_calibration_share.csv", csv);
}

// The median lesion burden of the cases with a lesion, as a Mondrian cut.
std::optional<MondrianRule> median_burden_rule(const EvaluationSet& set) {
    std::vector<std::size_t> burden;
    for (const EvaluationCase& c : set.cases()) {
        if (!c.empty_mask()) burden.push_back(c.lesion_voxels());
    }
    if (burden.size() < 2) return std::nullopt;
    std::sort(burden.begin(), burden.end());
    return MondrianRule{MondrianFeature::lesion_voxels, {burden[burden.size() / 2]}};
}

std::string table_beyond(Suite& suite) {
    constexpr double kEpsilon = 0.3, kAlpha = 0.2, kDelta = 0.1;
    const std::optional<MondrianRule> rule = median_burden_rule(suite.set());
    std::string md =
        "| method | promise | coverage | lesion coverage | mean FNR | splits with mean FNR > "
        "epsilon | lesions detected | voxels predicted (%) |\n"
        "|:---|:---|---:|---:|---:|---:|---:|---:|\n";
    std::string groups_md;
    std::string csv =
        "method,group,coverage,lesion_coverage,fnr,risk_violation,"
        "lesion_detection_rate,compactness\n";
    for (EvaluationMethod m :
         {EvaluationMethod::cls, EvaluationMethod::crc, EvaluationMethod::lesion_cls,
          EvaluationMethod::pac, EvaluationMethod::mondrian}) {
        EvaluationSettings s = suite.base(kEpsilon, kAlpha);
        s.methods = {m};
        s.delta = kDelta;
        s.mondrian = rule;
        const std::string name(to_string(m));
        auto report = suite.run(s, "beyond the paper, " + name);
        if (!report) continue;
        const MethodReport& method = report->methods[0];
        const auto mean = [](std::span<const SplitMetrics> splits, double SplitMetrics::*f) {
            return summarize(splits, f).mean;
        };
        const auto cells = [&](std::span<const SplitMetrics> splits) {
            return format("%.3f", mean(splits, &SplitMetrics::coverage)) + " | " +
                   format("%.3f", mean(splits, &SplitMetrics::lesion_coverage)) + " | " +
                   format("%.3f", mean(splits, &SplitMetrics::fnr)) + " | " +
                   format("%.3f", mean(splits, &SplitMetrics::risk_violation)) + " | " +
                   format("%.3f", mean(splits, &SplitMetrics::lesion_detection_rate)) + " | " +
                   format("%.2f", 100.0 * mean(splits, &SplitMetrics::compactness));
        };
        const auto csv_row = [&](const std::string& group, std::span<const SplitMetrics> splits) {
            csv += name + ",\"" + group + "\"";
            for (double SplitMetrics::*f :
                 {&SplitMetrics::coverage, &SplitMetrics::lesion_coverage, &SplitMetrics::fnr,
                  &SplitMetrics::risk_violation, &SplitMetrics::lesion_detection_rate,
                  &SplitMetrics::compactness}) {
                csv += "," + csv_number(mean(splits, f));
            }
            csv += "\n";
        };
        md += "| " + name + " | " + markdown_cell(promise(m, s)) + " | " + cells(method.splits) +
              " |\n";
        csv_row("", method.splits);
        for (const GroupReport& g : method.groups) {
            if (m != EvaluationMethod::cls && m != EvaluationMethod::mondrian) continue;
            groups_md += "| " + name + " | " + g.name + " | " +
                         format("%.3f", mean(g.splits, &SplitMetrics::coverage)) + " | " +
                         format("%.1f", static_cast<double>(g.calibration_cases) /
                                            static_cast<double>(s.splits)) +
                         " |\n";
            csv_row(g.name, g.splits);
        }
    }
    if (!groups_md.empty()) {
        md += "\nBy lesion burden (Mondrian groups split at the median, " + to_string(*rule) +
              "):\n\n| method | group | coverage | mean calibration cases in the group |\n"
              "|:---|:---|---:|---:|\n" +
              groups_md;
    }
    suite.add("table_beyond.md", md);
    suite.add("table_beyond.csv", csv);
    return md;
}

std::string index(Suite& suite, const PaperSuiteSettings& settings, const std::string& table_paper,
                  const std::string& table_more) {
    const EvaluationSet& set = suite.set();
    const std::size_t n_cal = calibration_cases(suite.base(0.1, 0.1), set.size());
    std::string md = "# Paper suite\n\n";
    md +=
        "The experiments of Tan et al. (arXiv 2510.17897) and a few beyond them, produced by "
        "`cls evaluate --paper-suite` (cls " +
        std::string(kVersion) + ").\n\n";
    if (!settings.data_description.empty()) md += "Data: " + settings.data_description + ".\n";
    md += std::to_string(set.size()) + " cases (" + std::to_string(set.empty_masks()) +
          " with empty masks" +
          (set.excluded_empty_masks() > 0
               ? ", " + std::to_string(set.excluded_empty_masks()) + " excluded"
               : std::string()) +
          "); each number is a mean over " + std::to_string(settings.splits) +
          " random splits into " + std::to_string(n_cal) + " calibration and " +
          std::to_string(set.size() - n_cal) + " test cases (seed " +
          std::to_string(settings.seed) + "), ± the standard deviation over splits.\n\n";
    md += "## Voxel FNR and missed-lesion rate (alpha = 0.2)\n\n" + table_paper +
          "\nMissed-lesion rate: of the test cases with a lesion, the share whose lesion voxels "
          "are all missed (FNR = 1). [CSV](table_fnr_missed.csv)\n\n";
    md +=
        "## Coverage against alpha (epsilon = 0.4)\n\n![Coverage against alpha]"
        "(coverage_vs_alpha.svg)\n\nCLS's coverage should lie between 1 - alpha and "
        "1 - alpha + 1/(n+1). Cases with an empty mask have FNR 0 at every threshold, so they "
        "are always covered: where alpha exceeds their share they lift coverage above the upper "
        "line. [CSV](coverage_vs_alpha.csv)\n\n";
    md +=
        "## Per-case FNR against FPR (epsilon = 0.3, alpha = 0.2)\n\n![FNR against FPR]"
        "(fnr_fpr_scatter.svg)\n\n[CSV](fnr_fpr_scatter.csv)\n\n";
    md +=
        "## Compactness over epsilon x alpha\n\n![Compactness heat map]"
        "(compactness_heatmap.svg)\n\nThe price of the guarantee: the share of voxels CLS "
        "predicts. [CSV](compactness_heatmap.csv)\n\n";
    md +=
        "## Coverage against the calibration share (epsilon = 0.4, alpha = 0.1)\n\n"
        "![Coverage against the calibration share](coverage_vs_calibration_share.svg)\n\n"
        "The guarantee holds for any n; fewer calibration cases widen the spread over splits. "
        "[CSV](coverage_vs_calibration_share.csv)\n\n";
    md += "## Beyond the paper (epsilon = 0.3, alpha = 0.2, delta = 0.1)\n\n" + table_more +
          "\nLesion coverage: test cases whose lesion-level FNR (share of ground-truth lesions "
          "with no voxel predicted) is <= epsilon. PAC uses the Hoeffding–Bentkus bound. "
          "[CSV](table_beyond.csv)\n";
    if (!suite.notes().empty()) {
        md += "\n## Left out\n\nSettings this data cannot support:\n\n";
        for (const std::string& note : suite.notes()) md += "- " + note + "\n";
    }
    return md;
}

}  // namespace

Result<std::vector<ReportFile>> paper_suite(
    const EvaluationSet& set, const PaperSuiteSettings& settings,
    const std::function<void(std::size_t, std::size_t)>& progress) {
    const std::size_t total = 3 * kTableEpsilons.size() + kAlphas.size() + 1 + 1 +
                              kGridEpsilons.size() * kGridAlphas.size() + kShares.size() + 5;
    Suite suite(set, settings, progress, total);
    const std::string table_paper = table_fnr_missed(suite);
    coverage_vs_alpha(suite);
    fnr_fpr_scatter(suite);
    compactness_heatmap(suite);
    coverage_vs_share(suite);
    const std::string table_more = table_beyond(suite);
    if (suite.notes().size() == total) {
        return make_error("no experiment can run on this data: " + suite.notes().front());
    }
    suite.add("README.md", index(suite, settings, table_paper, table_more));
    return std::move(suite.files());
}

}  // namespace cls::report
