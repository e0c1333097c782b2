// The vocabulary of evaluation reports: method names, the metric fields and their summary
// over splits.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>

#include "cls/evaluation.hpp"

namespace cls {
namespace {

constexpr std::array kFields = {
    MetricField{"threshold", &SplitMetrics::threshold},
    MetricField{"coverage", &SplitMetrics::coverage},
    MetricField{"fnr", &SplitMetrics::fnr},
    MetricField{"fpr", &SplitMetrics::fpr},
    MetricField{"dice", &SplitMetrics::dice},
    MetricField{"missed_lesion_rate", &SplitMetrics::missed_lesion_rate},
    MetricField{"compactness", &SplitMetrics::compactness},
    MetricField{"lesion_detection_rate", &SplitMetrics::lesion_detection_rate},
    MetricField{"lesion_coverage", &SplitMetrics::lesion_coverage},
    MetricField{"lesion_fnr", &SplitMetrics::lesion_fnr},
    MetricField{"risk_violation", &SplitMetrics::risk_violation},
};

// numpy's default ("linear") percentile of sorted values; an infinite end wins.
double percentile(const std::vector<double>& sorted, double q) {
    const double position = q * static_cast<double>(sorted.size() - 1);
    const auto below = static_cast<std::size_t>(std::floor(position));
    const double fraction = position - static_cast<double>(below);
    if (fraction == 0.0 || below + 1 >= sorted.size()) return sorted[below];
    const double lo = sorted[below], hi = sorted[below + 1];
    if (!std::isfinite(lo) || !std::isfinite(hi)) return lo == hi ? lo : hi;
    return lo + fraction * (hi - lo);
}

}  // namespace

std::string_view to_string(EvaluationMethod method) {
    return name_of(kEvaluationMethodNames, method);
}

Result<EvaluationMethod> parse_evaluation_method(std::string_view text) {
    return parse_name(kEvaluationMethodNames, text, "method");
}

Result<std::vector<EvaluationMethod>> parse_evaluation_methods(std::string_view text) {
    std::vector<EvaluationMethod> methods;
    while (true) {
        const std::size_t comma = text.find(',');
        auto method = parse_evaluation_method(text.substr(0, comma));
        if (!method) return method.error();
        if (std::find(methods.begin(), methods.end(), *method) != methods.end()) {
            return make_error("method '" + std::string(to_string(*method)) + "' is listed twice");
        }
        methods.push_back(*method);
        if (comma == std::string_view::npos) return methods;
        text = text.substr(comma + 1);
    }
}

std::span<const MetricField> split_metric_fields() { return kFields; }

Summary summarize(std::vector<double> values) {
    Summary s;
    const bool any_nan = std::any_of(values.begin(), values.end(), [](double v) { return v != v; });
    if (values.empty() || any_nan) {
        const double nan = std::numeric_limits<double>::quiet_NaN();
        return {nan, nan, nan, nan};
    }
    const double n = static_cast<double>(values.size());
    s.mean = std::accumulate(values.begin(), values.end(), 0.0) / n;
    if (values.size() > 1) {
        double squares = 0.0;
        for (double v : values) squares += (v - s.mean) * (v - s.mean);
        s.std = std::sqrt(squares / (n - 1.0));
    }
    std::sort(values.begin(), values.end());
    s.p5 = percentile(values, 0.05);
    s.p95 = percentile(values, 0.95);
    return s;
}

Summary summarize(std::span<const SplitMetrics> splits, double SplitMetrics::*field) {
    std::vector<double> values;
    values.reserve(splits.size());
    for (const SplitMetrics& s : splits) values.push_back(s.*field);
    return summarize(std::move(values));
}

const MethodReport* EvaluationReport::find(EvaluationMethod method) const {
    for (const MethodReport& m : methods) {
        if (m.method == method) return &m;
    }
    return nullptr;
}

}  // namespace cls
