#include "validate_panel.hpp"

#include <imgui.h>

#include <algorithm>
#include <cmath>

#include "plot.hpp"

namespace cls::app {
namespace {

constexpr ImU32 kCls = IM_COL32(0, 200, 255, 255);
constexpr ImU32 kFixed = IM_COL32(255, 210, 0, 255);
constexpr ImU32 kBound = IM_COL32(160, 160, 160, 255);
constexpr ImU32 kEpsilonLine = IM_COL32(255, 90, 90, 255);

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

void ValidatePanel::draw(Session& session, PanelContext& ui) {
    ImGui::TextWrapped(
        "Random calibration/test splits of the loaded labelled cases, as `cls evaluate` runs "
        "them: how often does each method keep FNR <= epsilon on the test part?");
    const auto& cases = session.cases().cases();
    if (const auto scored = std::count_if(cases.begin(), cases.end(),
                                          [](const LoadedCase& c) { return c.scored.has_value(); });
        scored > 0) {
        ImGui::TextDisabled("%lld case(s) given as scores are left out (the page reads only their "
                            "lesion probabilities); `cls evaluate --scores` validates them.",
                            static_cast<long long>(scored));
    }
    int splits = static_cast<int>(settings.splits);
    if (ImGui::SliderInt("splits", &splits, 10, 1000)) {
        settings.splits = static_cast<std::size_t>(splits);
    }
    float fraction = static_cast<float>(settings.calibration_fraction);
    if (ImGui::SliderFloat("calibration share", &fraction, 0.1f, 0.9f, "%.2f")) {
        settings.calibration_fraction = std::round(fraction * 100.0) / 100.0;
    }
    std::vector<EvaluationMethod>& methods = settings.methods;
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
        float delta = static_cast<float>(settings.delta);
        if (ImGui::SliderFloat("PAC delta", &delta, 0.01f, 0.5f, "%.2f")) {
            settings.delta = std::round(delta * 100.0) / 100.0;
        }
    }
    if (session.validation().running()) {
        ImGui::ProgressBar(session.validation().progress(), {-80, 0});
        ImGui::SameLine();
        if (ImGui::Button("Cancel##validation")) session.cancel_validation();
    } else if (ImGui::Button("Run validation") && !methods.empty()) {
        session.start_validation(settings);
    }
    ui.rects.remember("run_validation");
    if (!session.validation().error().empty()) {
        ImGui::TextColored({1, 0.6f, 0.3f, 1}, "%s", session.validation().error().c_str());
    }
    const auto& result = session.validation().result();
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
                plot.marker(p.alpha, p.coverage, colour, 3.5f);
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
        for (const ScatterPoint& p : result->fixed_cases) plot.marker(p.fpr, p.fnr, kFixed);
        for (const ScatterPoint& p : result->cls_cases) plot.marker(p.fpr, p.fnr, kCls);
    }
    ImGui::TextColored(as_vec4(kFixed), "fixed 0.5");
    ImGui::SameLine();
    ImGui::TextColored(as_vec4(kCls), "CLS");
}

}  // namespace cls::app
