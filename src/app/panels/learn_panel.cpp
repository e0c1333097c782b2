#include "learn_panel.hpp"

#include <imgui.h>

#include <algorithm>
#include <cmath>

#include "plot.hpp"

namespace cls::app {
namespace {

constexpr ImU32 kCls = IM_COL32(0, 200, 255, 255);
constexpr ImU32 kFixed = IM_COL32(255, 210, 0, 255);
constexpr ImU32 kEpsilonLine = IM_COL32(255, 90, 90, 255);
constexpr ImU32 kPoint = IM_COL32(150, 150, 230, 255);

}  // namespace

void LearnPanel::draw(Session& session, PanelContext&) {
    const Result<Calibration>& r = session.calibration();
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
            plot.marker(static_cast<double>(i + 1), t, is_k ? kCls : kPoint, is_k ? 5.0f : 2.5f);
        }
        if (std::isfinite(r->threshold)) plot.horizontal(r->threshold, kCls, "tau");
    }
    ImGui::TextDisabled("points on the top edge are +inf (empty masks)");

    // One held-out case: calibrate on the others, then look at its FNR curve.
    const LoadedCase* held_out = session.cases().find(session.selected());
    if (!held_out || !held_out->labelled() || held_out->scores->empty_mask()) {
        ImGui::TextWrapped("Select a case with a lesion to see it held out.");
        return;
    }
    const Result<Calibration>& without = session.calibration_without(held_out->id);
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
