// The Validate and Learn tabs (App members, apart from app.cpp to keep each file to one
// concern): repeated-split validation on the loaded cases, and a view for people learning
// conformal risk control, with the formula for k and tau filled in as the sliders move.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "app.hpp"
#include "plot.hpp"

namespace cls::app {
namespace {

constexpr ImU32 kCls = IM_COL32(0, 200, 255, 255);
constexpr ImU32 kFixed = IM_COL32(255, 210, 0, 255);
constexpr ImU32 kBound = IM_COL32(160, 160, 160, 255);
constexpr ImU32 kEpsilonLine = IM_COL32(255, 90, 90, 255);
constexpr ImU32 kPoint = IM_COL32(150, 150, 230, 255);
constexpr auto kValidationBudget = std::chrono::milliseconds(8);

void marker(const Plot& plot, double x, double y, ImU32 colour, float radius = 2.5f) {
    plot.draw_list()->AddCircleFilled(plot.at(x, y), radius, colour);
}

}  // namespace

void App::advance_validation() { validation_.advance(kValidationBudget); }

namespace {

struct MethodChoice {
    EvaluationMethod method;
    const char* label;
    ImU32 colour;
};
constexpr MethodChoice kMethodChoices[] = {
    {EvaluationMethod::cls, "CLS", IM_COL32(0, 200, 255, 255)},
    {EvaluationMethod::crc, "CRC (expected FNR)", IM_COL32(255, 140, 60, 255)},
    {EvaluationMethod::lesion_cls, "lesion-level CLS", IM_COL32(120, 230, 120, 255)},
    {EvaluationMethod::pac, "PAC (Hoeffding-Bentkus)", IM_COL32(230, 120, 230, 255)},
    {EvaluationMethod::mondrian, "Mondrian CLS (by predicted burden)",
     IM_COL32(240, 240, 120, 255)},
};

ImU32 colour_of(EvaluationMethod method) {
    for (const MethodChoice& c : kMethodChoices) {
        if (c.method == method) return c.colour;
    }
    return kCls;
}

ImVec4 as_vec4(ImU32 colour) { return ImGui::ColorConvertU32ToFloat4(colour); }

}  // namespace

void App::draw_validate_tab() {
    ImGui::TextWrapped(
        "Random calibration/test splits of the loaded labelled cases, as `cls evaluate` runs "
        "them: how often does each method keep FNR <= epsilon on the test part?");
    int splits = static_cast<int>(validation_settings_.splits);
    if (ImGui::SliderInt("splits", &splits, 10, 1000)) {
        validation_settings_.splits = static_cast<std::size_t>(splits);
    }
    float fraction = static_cast<float>(validation_settings_.calibration_fraction);
    if (ImGui::SliderFloat("calibration share", &fraction, 0.1f, 0.9f, "%.2f")) {
        validation_settings_.calibration_fraction = std::round(fraction * 100.0) / 100.0;
    }
    std::vector<EvaluationMethod>& methods = validation_settings_.methods;
    for (const MethodChoice& choice : kMethodChoices) {
        bool on = std::find(methods.begin(), methods.end(), choice.method) != methods.end();
        ImGui::PushStyleColor(ImGuiCol_CheckMark, choice.colour);
        if (ImGui::Checkbox(choice.label, &on)) {
            std::erase(methods, choice.method);
            if (on) methods.push_back(choice.method);
        }
        ImGui::PopStyleColor();
    }
    if (std::find(methods.begin(), methods.end(), EvaluationMethod::pac) != methods.end()) {
        float delta = static_cast<float>(validation_settings_.delta);
        if (ImGui::SliderFloat("PAC delta", &delta, 0.01f, 0.5f, "%.2f")) {
            validation_settings_.delta = std::round(delta * 100.0) / 100.0;
        }
    }
    if (validation_.running()) {
        ImGui::ProgressBar(validation_.progress(), {-80, 0});
        ImGui::SameLine();
        if (ImGui::Button("Cancel##validation")) validation_.cancel();
    } else if (ImGui::Button("Run validation") && !methods.empty()) {
        validation_settings_.epsilon = settings_.epsilon;
        validation_settings_.alpha = settings_.alpha;
        validation_settings_.empty_masks = settings_.empty_masks;
        validation_.start(store_, validation_settings_);
    }
    remember_rect("run_validation");
    if (!validation_.error().empty()) {
        ImGui::TextColored({1, 0.6f, 0.3f, 1}, "%s", validation_.error().c_str());
    }
    const auto& result = validation_.result();
    if (!result) return;

    const double epsilon = result->settings.epsilon;
    const double n = static_cast<double>(result->calibration_cases);
    ImGui::Text("%zu splits, %zu calibrate / %zu test, epsilon %.3g", result->settings.splits,
                result->calibration_cases, result->test_cases, epsilon);
    if (!result->mondrian_rule.empty())
        ImGui::TextDisabled("Mondrian groups: %s", result->mondrian_rule.c_str());
    const float width = ImGui::GetContentRegionAvail().x;
    ImGui::TextUnformatted("Coverage (FNR <= epsilon) vs alpha");
    {
        const Plot plot("coverage", {width, 170}, 0.0, 1.0, 0.0, 1.0, "alpha", "coverage");
        plot.line(0, 1, 1, 0, kBound);                          // 1 - alpha
        plot.line(0, 1 + 1 / (n + 1), 1, 1 / (n + 1), kBound);  // 1 - alpha + 1/(n+1)
        for (const CoverageCurve& curve : result->curves) {
            const ImU32 colour = colour_of(curve.method);
            for (std::size_t i = 0; i < curve.points.size(); ++i) {
                const CoveragePoint& p = curve.points[i];
                marker(plot, p.alpha, p.coverage, colour, 3.5f);
                if (i > 0) {
                    const CoveragePoint& q = curve.points[i - 1];
                    plot.line(q.alpha, q.coverage, p.alpha, p.coverage, colour, 2);
                }
            }
        }
    }
    for (const CoverageCurve& curve : result->curves) {
        ImGui::TextColored(as_vec4(colour_of(curve.method)), "%s",
                           std::string(to_string(curve.method)).c_str());
        ImGui::SameLine();
    }
    ImGui::NewLine();
    ImGui::TextDisabled(
        "grey: 1 - alpha and 1 - alpha + 1/(n+1), where CLS's coverage must lie; lesion-level "
        "CLS shows lesion-FNR coverage; CRC and PAC promise a mean FNR, not coverage");
    ImGui::Text("FNR vs FPR per test case (first split), alpha %.3g", result->settings.alpha);
    {
        double max_fpr = 1e-3;
        for (const auto* points : {&result->fixed_cases, &result->cls_cases}) {
            for (const ScatterPoint& p : *points) max_fpr = std::max(max_fpr, p.fpr);
        }
        const Plot plot("scatter", {width, 170}, 0.0, max_fpr * 1.05, 0.0, 1.0, "FPR", "FNR");
        plot.horizontal(epsilon, kEpsilonLine, "epsilon");
        for (const ScatterPoint& p : result->fixed_cases) marker(plot, p.fpr, p.fnr, kFixed);
        for (const ScatterPoint& p : result->cls_cases) marker(plot, p.fpr, p.fnr, kCls);
    }
    ImGui::TextColored(as_vec4(kFixed), "fixed 0.5");
    ImGui::SameLine();
    ImGui::TextColored(as_vec4(kCls), "CLS");
}

const Result<Calibration>& App::held_out_calibration(const std::string& name,
                                                     const CalibrationSettings& settings) {
    const bool same = held_out_ && held_out_->name == name &&
                      held_out_->generation == store_.generation() &&
                      held_out_->settings.epsilon == settings.epsilon &&
                      held_out_->settings.alpha == settings.alpha &&
                      held_out_->settings.empty_masks == settings.empty_masks;
    if (!same) {
        std::vector<LesionScores> others;
        for (const LesionScores& c : session_.cases()) {
            if (c.name != name) others.push_back(c);
        }
        held_out_.emplace(
            HeldOut{name, store_.generation(), settings, calibrate(others, settings)});
    }
    return held_out_->result;
}

void App::draw_learn_tab() {
    const Result<Calibration>& r = session_.result();
    if (!r || r->settings.method != Method::cls) {
        ImGui::TextWrapped("%s", r ? "Choose the CLS method to follow its construction."
                                   : r.error().message.c_str());
        return;
    }
    const double alpha = r->settings.alpha, epsilon = r->settings.epsilon;
    std::vector<double> thresholds;
    for (const CaseCalibration& c : r->cases) {
        if (!c.excluded) thresholds.push_back(c.critical_threshold);
    }
    std::sort(thresholds.begin(), thresholds.end());
    ImGui::TextWrapped(
        "Each calibration case i has a critical threshold t_i: the largest t keeping its FNR <= "
        "epsilon = %.3g. Sorted, the k-th smallest is tau.",
        epsilon);
    ImGui::Text("k = floor((n+1) alpha) = floor(%zu x %.3g) = floor(%.4g) = %zu", r->n + 1, alpha,
                static_cast<double>(r->n + 1) * alpha, r->k);
    ImGui::Text("tau = t_(%zu) = %.6g", r->k, r->threshold);
    const float width = ImGui::GetContentRegionAvail().x;
    {
        const double n = static_cast<double>(thresholds.size());
        const Plot plot("sorted", {width, 170}, 0.0, n + 1, 0.0, 1.0, "rank", "t_i");
        for (std::size_t i = 0; i < thresholds.size(); ++i) {
            const double t = std::isfinite(thresholds[i]) ? thresholds[i] : 1.0;  // +inf on top
            const bool is_k = i + 1 == r->k;
            marker(plot, static_cast<double>(i + 1), t, is_k ? kCls : kPoint, is_k ? 5.0f : 2.5f);
        }
        if (std::isfinite(r->threshold)) plot.horizontal(r->threshold, kCls, "tau");
    }
    ImGui::TextDisabled("points on the top edge are +inf (empty masks)");

    // One held-out case: calibrate on the others, then look at its FNR curve.
    const LoadedCase* held_out = store_.find(selected_);
    if (!held_out || !held_out->labelled() || held_out->scores->empty_mask()) {
        ImGui::TextWrapped("Select a case with a lesion to see it held out.");
        return;
    }
    const Result<Calibration>& without = held_out_calibration(held_out->name, r->settings);
    if (!without) {
        ImGui::TextWrapped("Without %s: %s", held_out->name.c_str(),
                           without.error().message.c_str());
        return;
    }
    const auto& p = held_out->scores->sorted_lesion_probabilities;
    const double fnr = false_negative_rate(p, without->threshold);
    ImGui::Text("Held out: %s. Calibrated on the other %zu, tau = %.4g", held_out->name.c_str(),
                without->n, without->threshold);
    {
        const Plot plot("held_out", {width, 160}, 0.0, 1.0, 0.0, 1.0, "threshold t", "FNR");
        const std::size_t m = p.size(), step = std::max<std::size_t>(1, m / 200);
        for (std::size_t i = step; i < m; i += step) {
            plot.line(p[i - step], static_cast<double>(i - step) / m, p[i],
                      static_cast<double>(i) / m, kCls, 2);
        }
        plot.horizontal(epsilon, kEpsilonLine, "epsilon");
        if (std::isfinite(without->threshold)) plot.vertical(without->threshold, kFixed, "tau");
    }
    if (fnr <= epsilon) {
        ImGui::TextColored({0.4f, 1, 0.4f, 1}, "FNR at tau = %.3f <= %.3g: covered", fnr, epsilon);
    } else {
        ImGui::TextColored({1, 0.5f, 0.5f, 1},
                           "FNR at tau = %.3f > %.3g: one of the misses alpha allows", fnr,
                           epsilon);
    }
}

}  // namespace cls::app
