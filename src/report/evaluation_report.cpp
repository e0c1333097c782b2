#include "cls/report/evaluation_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "cls/version.hpp"

namespace cls::report {
namespace {

using nlohmann::json;

json finite_or_null(double x) { return std::isfinite(x) ? json(x) : json(nullptr); }

std::string format(const char* pattern, double x) {
    char text[64];
    std::snprintf(text, sizeof text, pattern, x);
    return text;
}

// The means and their spread, for the whole test part or one group.
void add_metrics(json& out, std::span<const SplitMetrics> splits) {
    json spread = json::object();
    for (const MetricField& field : split_metric_fields()) {
        const Summary s = summarize(splits, field.member);
        out[std::string(field.name)] = finite_or_null(s.mean);
        spread[std::string(field.name)] = {{"std", finite_or_null(s.std)},
                                           {"p5", finite_or_null(s.p5)},
                                           {"p95", finite_or_null(s.p95)}};
    }
    std::size_t infinite = 0;
    for (const SplitMetrics& m : splits) infinite += std::isinf(m.threshold);
    out["threshold_infinite_splits"] = infinite;
    out["spread"] = std::move(spread);
}

std::string csv_number(double x) {
    if (!std::isfinite(x)) return std::isinf(x) ? (x > 0 ? "inf" : "-inf") : "";
    return format("%.17g", x);
}

}  // namespace

std::string promise(EvaluationMethod method, const EvaluationSettings& s) {
    const std::string eps = format("%g", s.epsilon);
    const std::string cover = format("%g", 1.0 - s.alpha);
    switch (method) {
        case EvaluationMethod::fixed:
            return "none (threshold " + format("%g", s.fixed_threshold) + ")";
        case EvaluationMethod::cls:
            return "P(FNR <= " + eps + ") >= " + cover + " for a new case";
        case EvaluationMethod::crc:
            return "E[FNR] <= " + eps + ", on average over calibration sets";
        case EvaluationMethod::lesion_cls:
            return "P(lesion FNR <= " + eps + ") >= " + cover + " for a new case";
        case EvaluationMethod::pac:
            return "E[FNR] <= " + eps + " with probability >= " + format("%g", 1.0 - s.delta) +
                   " over the calibration set";
        case EvaluationMethod::mondrian:
            return "P(FNR <= " + eps + " | group) >= " + cover + " in every group";
    }
    return "";
}

std::string to_json(const EvaluationReport& r) {
    const EvaluationSettings& s = r.settings;
    json methods = json::object();
    for (const MethodReport& m : r.methods) {
        json method = json::object();
        add_metrics(method, m.splits);
        if (!m.groups.empty()) {
            json groups = json::array();
            for (std::size_t g = 0; g < m.groups.size(); ++g) {
                const GroupReport& group = m.groups[g];
                const double splits = static_cast<double>(s.splits);
                json entry = {{"name", group.name},
                              {"cases", r.group_cases[g]},
                              {"splits", group.splits.size()},
                              {"mean_n_cal", static_cast<double>(group.calibration_cases) / splits},
                              {"mean_n_test", static_cast<double>(group.test_cases) / splits},
                              {"fallback_splits", group.fallback_splits}};
                add_metrics(entry, group.splits);
                groups.push_back(std::move(entry));
            }
            method["groups"] = std::move(groups);
        }
        method["promise"] = promise(m.method, s);
        methods[std::string(to_string(m.method))] = std::move(method);
    }
    const json document = {{"format", "cls-evaluation"},
                           {"format_version", 1},
                           {"tool_version", kVersion},
                           {"splits", s.splits},
                           {"cases", r.cases},
                           {"n_cal", r.calibration_cases},
                           {"n_test", r.test_cases},
                           {"epsilon", s.epsilon},
                           {"alpha", s.alpha},
                           {"delta", s.delta},
                           {"calibration_fraction", s.calibration_fraction},
                           {"seed", s.seed},
                           {"fixed_threshold", s.fixed_threshold},
                           {"empty_mask_policy", to_string(r.empty_mask_policy)},
                           {"empty_masks", r.empty_masks},
                           {"excluded_empty_masks", r.excluded_empty_masks},
                           {"mondrian", s.mondrian ? json(to_string(*s.mondrian)) : json(nullptr)},
                           {"methods", std::move(methods)}};
    return document.dump(2) + "\n";
}

std::string to_csv(const EvaluationReport& r) {
    std::string out = "method,group,metric,mean,std,p5,p95\n";
    const auto rows = [&](std::string_view method, const std::string& group,
                          std::span<const SplitMetrics> splits) {
        for (const MetricField& field : split_metric_fields()) {
            const Summary s = summarize(splits, field.member);
            out += std::string(method) + "," + group + "," + std::string(field.name) + "," +
                   csv_number(s.mean) + "," + csv_number(s.std) + "," + csv_number(s.p5) + "," +
                   csv_number(s.p95) + "\n";
        }
    };
    for (const MethodReport& m : r.methods) {
        rows(to_string(m.method), "", m.splits);
        for (const GroupReport& g : m.groups)
            rows(to_string(m.method), "\"" + g.name + "\"", g.splits);
    }
    return out;
}

std::string to_text(const EvaluationReport& r) {
    const EvaluationSettings& s = r.settings;
    char line[256];
    std::string out;
    std::snprintf(line, sizeof line,
                  "%zu cases (%zu with empty masks%s), %zu splits of %zu calibration / %zu test, "
                  "epsilon %g, alpha %g\n\n",
                  r.cases, r.empty_masks,
                  r.excluded_empty_masks > 0
                      ? (", " + std::to_string(r.excluded_empty_masks) + " excluded").c_str()
                      : "",
                  s.splits, r.calibration_cases, r.test_cases, s.epsilon, s.alpha);
    out += line;
    std::vector<std::pair<std::string, std::span<const SplitMetrics>>> rows;
    for (const MethodReport& m : r.methods) {
        rows.emplace_back(std::string(to_string(m.method)), m.splits);
        for (const GroupReport& g : m.groups) {
            if (!g.splits.empty()) rows.emplace_back("  " + g.name, g.splits);
        }
    }
    int width = 6;
    for (const auto& row : rows) width = std::max(width, static_cast<int>(row.first.size()));
    std::snprintf(line, sizeof line, "%-*s %8s %15s %7s %7s %7s %7s %8s %8s %10s\n", width,
                  "method", "coverage", "[p5, p95]", "FNR", "FPR", "Dice", "missed", "compact",
                  "lesions", "threshold");
    out += line;
    for (const auto& row : rows) {
        // Named copies: clang 14 (Emscripten's) cannot capture structured bindings.
        const std::string& name = row.first;
        const std::span<const SplitMetrics> splits = row.second;
        const auto mean = [&](double SplitMetrics::*f) { return summarize(splits, f).mean; };
        const Summary coverage = summarize(splits, &SplitMetrics::coverage);
        const double threshold = mean(&SplitMetrics::threshold);
        std::snprintf(line, sizeof line,
                      "%-*s %8.3f  [%5.3f, %5.3f] %7.3f %7.4f %7.3f %7.3f %8.4f %8.3f %10s\n",
                      width, name.c_str(), coverage.mean, coverage.p5, coverage.p95,
                      mean(&SplitMetrics::fnr), mean(&SplitMetrics::fpr), mean(&SplitMetrics::dice),
                      mean(&SplitMetrics::missed_lesion_rate), mean(&SplitMetrics::compactness),
                      mean(&SplitMetrics::lesion_detection_rate),
                      std::isnan(threshold)   ? "per group"
                      : std::isinf(threshold) ? "inf"
                                              : format("%.4g", threshold).c_str());
        out += line;
    }
    out +=
        "\ncoverage: cases with FNR <= epsilon; missed: lesion cases with FNR = 1; compact: "
        "share of voxels predicted; lesions: share of lesions detected\n";
    for (const MethodReport& m : r.methods) {
        out += std::string(to_string(m.method)) + " promises " + promise(m.method, s) + "\n";
    }
    return out;
}

}  // namespace cls::report
