#include "cls/report/evaluation_plots.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "cls/report/svg_plot.hpp"

namespace cls::report {
namespace {

std::string subtitle(const EvaluationReport& r) {
    char text[160];
    std::snprintf(
        text, sizeof text, "epsilon %g, alpha %g; %zu cases, %zu splits of %zu / %zu, seed %llu",
        r.settings.epsilon, r.settings.alpha, r.cases, r.settings.splits, r.calibration_cases,
        r.test_cases, static_cast<unsigned long long>(r.settings.seed));
    return text;
}

// Share of splits per coverage bin, drawn as a step outline. A split's coverage is j / n_test,
// so each bin holds the same number of those values (about 0.025 wide), never 2 next to 3.
Series histogram(const MethodReport& m, std::size_t n_test) {
    const std::size_t per_bin = std::max<std::size_t>(1, (n_test + 20) / 40);
    const std::size_t bins = n_test / per_bin + 1;
    std::vector<double> share(bins, 0.0);
    for (const SplitMetrics& s : m.splits) {
        const auto j =
            static_cast<std::size_t>(std::lround(s.coverage * static_cast<double>(n_test)));
        share[std::min(bins - 1, j / per_bin)] += 1.0 / static_cast<double>(m.splits.size());
    }
    Series series{std::string(to_string(m.method)), {},    {}, Mark::line,
                  method_colour(m.method),          false, 1.0};
    const double width = static_cast<double>(per_bin) / static_cast<double>(n_test);
    for (std::size_t b = 0; b < bins; ++b) {
        // Centred on the values it holds, so coverage 1.0 sits inside the last bin.
        const double lo = (static_cast<double>(b) - 0.5 / static_cast<double>(per_bin)) * width;
        series.x.insert(series.x.end(), {lo, lo + width});
        series.y.insert(series.y.end(), {share[b], share[b]});
    }
    return series;
}

}  // namespace

std::string method_colour(EvaluationMethod method) {
    switch (method) {
        case EvaluationMethod::cls:
            return std::string(palette_colour(0));
        case EvaluationMethod::fixed:
            return std::string(palette_colour(1));
        case EvaluationMethod::crc:
            return std::string(palette_colour(2));
        case EvaluationMethod::lesion_cls:
            return std::string(palette_colour(3));
        case EvaluationMethod::pac:
            return std::string(palette_colour(4));
        case EvaluationMethod::mondrian:
            return std::string(palette_colour(5));
    }
    return "#000000";
}

std::vector<ReportFile> evaluation_plots(const EvaluationReport& r) {
    std::vector<ReportFile> files;
    Chart spread;
    spread.title = "Coverage over splits";
    spread.subtitle = subtitle(r);
    spread.x = {"coverage (share of test cases with FNR <= epsilon)", 0.0, 1.0};
    spread.y = {"share of splits", 0.0, std::nullopt};
    spread.legend = LegendPlace::top_left;
    double top = 0.0;
    for (std::size_t i = 0; i < r.methods.size(); ++i) {
        spread.series.push_back(histogram(r.methods[i], r.test_cases));
        for (double y : spread.series.back().y) top = std::max(top, y);
    }
    spread.series.push_back({"1 - alpha",
                             {1.0 - r.settings.alpha, 1.0 - r.settings.alpha},
                             {0.0, top},
                             Mark::line,
                             "#333333",
                             true,
                             1.0});
    files.push_back({"coverage_by_split.svg", render_svg(spread)});

    Chart scatter;
    scatter.title = "Per-case FNR against FPR, first split";
    scatter.subtitle = subtitle(r);
    scatter.x = {"FNR (share of lesion voxels missed)", 0.0, 1.0};
    scatter.y = {"FPR (share of background voxels predicted)", 0.0, std::nullopt};
    scatter.legend = LegendPlace::top_right;
    for (std::size_t i = 0; i < r.methods.size(); ++i) {
        Series points{std::string(to_string(r.methods[i].method)), {},    {}, Mark::points,
                      method_colour(r.methods[i].method),          false, 0.7};
        for (const CaseResult& c : r.methods[i].first_split) {
            points.x.push_back(c.outcome.fnr);
            points.y.push_back(c.outcome.fpr);
        }
        scatter.series.push_back(std::move(points));
    }
    files.push_back({"fnr_fpr_first_split.svg", render_svg(scatter)});
    return files;
}

}  // namespace cls::report
