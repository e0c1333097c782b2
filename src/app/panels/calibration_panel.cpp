#include "calibration_panel.hpp"

#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "plot.hpp"

namespace cls::app {

namespace {

constexpr ImU32 kCurve = IM_COL32(120, 170, 255, 90);
constexpr ImU32 kViolating = IM_COL32(255, 120, 120, 160);
constexpr ImU32 kEpsilon = IM_COL32(255, 90, 90, 255);
constexpr ImU32 kTau = IM_COL32(0, 200, 255, 255);
constexpr ImU32 kBars = IM_COL32(160, 160, 220, 255);
constexpr std::size_t kCurvePoints = 96;  // per case: enough for the shape, cheap for 1000 cases
constexpr int kBins = 40;

// FNR(t) = i/m just above the i-th smallest lesion probability: a step curve, subsampled.
void draw_fnr_curve(const Plot& plot, const std::vector<float>& sorted, ImU32 colour) {
    const std::size_t m = sorted.size();
    if (m == 0) return;
    const std::size_t step = std::max<std::size_t>(1, m / kCurvePoints);
    double x = 0.0, y = 0.0;
    for (std::size_t i = 0; i < m; i += step) {
        const double nx = sorted[i], ny = static_cast<double>(i) / static_cast<double>(m);
        plot.line(x, y, nx, y, colour);
        plot.line(nx, y, nx, ny, colour);
        x = nx;
        y = ny;
    }
    plot.line(x, y, sorted.back(), y, colour);
    plot.line(sorted.back(), y, sorted.back(), 1.0, colour);
    plot.line(sorted.back(), 1.0, 1.0, 1.0, colour);
}

}  // namespace

void CalibrationPanel::draw_plots(Session& session, PanelContext& ui) {
    CalibrationSession& calibration = session.calibration_session();
    const Result<Calibration>& r = calibration.result();
    const double tau = r->threshold;
    const double epsilon = r->settings.epsilon;
    const std::vector<double> fnr = calibration.fnr_at_threshold();
    const float width = ImGui::GetContentRegionAvail().x;

    ImGui::TextUnformatted("FNR of every calibration case vs threshold");
    {
        const Plot plot("fnr_curves", {width, 180}, 0.0, 1.0, 0.0, 1.0, "threshold t", "FNR");
        const auto& cases = calibration.cases();
        for (std::size_t i = 0; i < cases.size(); ++i) {
            draw_fnr_curve(plot, cases[i].sorted_lesion_probabilities,
                           i < fnr.size() && fnr[i] > epsilon ? kViolating : kCurve);
        }
        plot.horizontal(epsilon, kEpsilon, "epsilon");
        if (std::isfinite(tau)) plot.vertical(tau, kTau, "tau");
        ui.rects.remember("fnr_plot");
    }

    ImGui::TextUnformatted("Critical thresholds t_i");
    std::vector<int> bins(kBins, 0);
    int infinite = 0;
    for (const CaseCalibration& c : r->cases) {
        if (c.excluded) continue;
        if (c.critical_threshold == kInfinity) {
            ++infinite;
        } else {
            ++bins[std::min(kBins - 1, static_cast<int>(c.critical_threshold * kBins))];
        }
    }
    const int tallest = std::max(1, *std::max_element(bins.begin(), bins.end()));
    {
        const Plot plot("histogram", {width, 150}, 0.0, 1.0, 0.0, tallest, "t_i", "cases");
        for (int b = 0; b < kBins; ++b) {
            plot.bar((b + 0.1) / kBins, (b + 0.9) / kBins, bins[static_cast<std::size_t>(b)],
                     kBars);
        }
        if (std::isfinite(tau)) plot.vertical(tau, kTau, "tau");
        ui.rects.remember("histogram");
    }
    if (infinite > 0) ImGui::TextDisabled("%d cases with t_i = +inf (empty masks)", infinite);
    const auto covered =
        std::count_if(fnr.begin(), fnr.end(), [&](double f) { return f <= epsilon; });
    ImGui::Text("At tau, %lld of %zu calibration cases have FNR <= epsilon.",
                static_cast<long long>(covered), fnr.size());
}

void CalibrationPanel::draw_case_table(Session& session) {
    CalibrationSession& calibration = session.calibration_session();
    const Result<Calibration>& r = calibration.result();
    const std::vector<double> fnr = calibration.fnr_at_threshold();
    const LoadedCase* selected = session.cases().find(session.selected());
    std::vector<std::size_t> order(r->cases.size());
    std::iota(order.begin(), order.end(), 0);
    constexpr ImGuiTableFlags kFlags = ImGuiTableFlags_Sortable | ImGuiTableFlags_RowBg |
                                       ImGuiTableFlags_ScrollY | ImGuiTableFlags_BordersOuter |
                                       ImGuiTableFlags_SizingStretchProp;
    if (!ImGui::BeginTable("cases_table", 4, kFlags, {0, 200})) return;
    ImGui::TableSetupScrollFreeze(0, 1);
    ImGui::TableSetupColumn("case", ImGuiTableColumnFlags_DefaultSort);
    ImGui::TableSetupColumn("lesion voxels");
    ImGui::TableSetupColumn("t_i");
    ImGui::TableSetupColumn("FNR at tau");
    ImGui::TableHeadersRow();
    if (const ImGuiTableSortSpecs* specs = ImGui::TableGetSortSpecs();
        specs && specs->SpecsCount > 0) {
        const ImGuiTableColumnSortSpecs& s = specs->Specs[0];
        const auto key = [&](std::size_t i) -> double {
            switch (s.ColumnIndex) {
                case 1:
                    return static_cast<double>(r->cases[i].lesion_voxels);
                case 2:
                    return r->cases[i].critical_threshold;
                case 3:
                    return i < fnr.size() ? fnr[i] : 0.0;
                default:
                    return static_cast<double>(i);  // cases are in name order
            }
        };
        std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
            return s.SortDirection == ImGuiSortDirection_Ascending ? key(a) < key(b)
                                                                   : key(a) > key(b);
        });
    }
    for (std::size_t i : order) {
        const CaseCalibration& c = r->cases[i];
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        if (ImGui::Selectable(c.name.c_str(), selected && c.name == selected->name,
                              ImGuiSelectableFlags_SpanAllColumns)) {
            (void)session.select_case(c.name);
        }
        ImGui::TableNextColumn();
        ImGui::Text("%zu", c.lesion_voxels);
        ImGui::TableNextColumn();
        if (c.critical_threshold == kInfinity) {
            ImGui::TextUnformatted("+inf");
        } else {
            ImGui::Text("%.4g", c.critical_threshold);
        }
        ImGui::TableNextColumn();
        ImGui::Text("%.3f%s", i < fnr.size() ? fnr[i] : 0.0, c.excluded ? " (excluded)" : "");
    }
    ImGui::EndTable();
}

// The labelled cases set aside as new ones (the demo's real patients): did the promise hold
// for them, and what does the mask at tau cost against one at 0.5?
void CalibrationPanel::draw_set_aside_table(Session& session) {
    std::vector<std::pair<const LoadedCase*, SetAsideOutcome>> rows;
    for (const LoadedCase& c : session.cases().cases()) {
        if (auto outcome = session.set_aside_outcome(c.id)) rows.emplace_back(&c, *outcome);
    }
    if (rows.empty()) return;
    const double epsilon = session.settings().epsilon;
    ImGui::TextUnformatted("New cases set aside, against their labels");
    constexpr ImGuiTableFlags kFlags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersOuter |
                                       ImGuiTableFlags_SizingStretchProp;
    if (!ImGui::BeginTable("set_aside_table", 7, kFlags)) return;
    for (const char* heading : {"case", "lesion voxels", "mask at tau", "FNR at tau",
                                "Dice at tau", "mask at 0.5", "FNR / Dice at 0.5"}) {
        ImGui::TableSetupColumn(heading);
    }
    ImGui::TableHeadersRow();
    const LoadedCase* selected = session.cases().find(session.selected());
    for (const auto& [c, o] : rows) {
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        if (ImGui::Selectable(c->name.c_str(), c == selected,
                              ImGuiSelectableFlags_SpanAllColumns)) {
            session.select(c->id);
        }
        ImGui::TableNextColumn();
        ImGui::Text("%zu", o.lesion_voxels);
        ImGui::TableNextColumn();
        if (o.at_threshold) {
            ImGui::Text("%zu", o.predicted_at_threshold);
            ImGui::TableNextColumn();
            const bool held = o.at_threshold->fnr <= epsilon;
            ImGui::TextColored(held ? ImVec4{0.4f, 1, 0.4f, 1} : ImGui::ColorConvertU32ToFloat4(kWarningColour),
                               "%.3f %s",
                               o.at_threshold->fnr, held ? "<= eps" : "> eps");
            ImGui::TableNextColumn();
            ImGui::Text("%.3f", o.at_threshold->dice);
        } else {
            ImGui::TextDisabled("no tau");
            ImGui::TableNextColumn();
            ImGui::TableNextColumn();
        }
        ImGui::TableNextColumn();
        ImGui::Text("%zu", o.predicted_at_half);
        ImGui::TableNextColumn();
        ImGui::Text("%.3f / %.3f", o.at_half.fnr, o.at_half.dice);
    }
    ImGui::EndTable();
    ImGui::TextDisabled(
        "Their labels do not calibrate. A miss (FNR > eps) is allowed on up to alpha of cases.");
}

// What the certificate promises, and for whom, without symbols: the population is the one the
// calibration cases were drawn from, and the promise is over such cases, not each one.
void CalibrationPanel::draw_guarantee_in_words(const Calibration& c) {
    if (c.threshold == kInfinity) return;  // the error above already says none exists
    const double missed = 100.0 * c.settings.epsilon;
    const double confidence = 100.0 * (1.0 - c.settings.alpha);
    ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
    ImGui::TextWrapped(
        "In words: take a new scan from the same population as these %zu calibration cases "
        "(the same kind of patients, scanner protocol and model). With probability at least "
        "%.3g%%, its mask at tau misses at most %.3g%% of its lesion voxels. The promise is over "
        "such scans, not for each one: up to %.3g%% of them may miss more. It says nothing about "
        "false positives, or about scans unlike these (the cases panel flags those it can see).",
        c.n, confidence, missed, 100.0 - confidence);
    ImGui::PopStyleColor();
}

void CalibrationPanel::draw_region(Session& session, PanelContext& ui) {
    // In kRegionOfInterestNames' order: none, nonzero, mask.
    int region = static_cast<int>(session.region());
    if (ImGui::Combo("region of interest", &region,
                     "none (every voxel)\0non-zero image voxels\0region mask files\0")) {
        session.set_region(static_cast<RegionOfInterest>(region));
    }
    ui.rects.remember("region_of_interest");
    if (ImGui::IsItemHovered()) {
        ImGui::SetTooltip(
            "Predictions outside the region are never made: every case's map is multiplied by "
            "it, calibration cases and new cases alike, so the guarantee is unchanged. Region "
            "masks pair by name: case_003_brainmask.nii.gz, or a brainmasks/ folder.");
    }
    if (const std::size_t missing = session.cases().region_missing_count(); missing > 0) {
        wrapped_text(kWarningColour, std::to_string(missing) + " labelled case(s) have no " +
                                         (session.region() == RegionOfInterest::nonzero
                                              ? std::string("image")
                                              : std::string("region mask")) +
                                         " for the region (or an empty one) and are left out "
                                         "of calibration.");
    }
    float level = static_cast<float>(session.flag_below());
    ImGui::SetNextItemWidth(120);
    if (ImGui::InputFloat("flag cases unlike these at p <=", &level, 0.01f, 0.05f, "%.3f")) {
        (void)session.set_flag_below(std::round(level * 1000.0) / 1000.0);  // out of range: kept
    }
    ui.rects.remember("flag_below");
}

void CalibrationPanel::draw(Session& session, PanelContext& ui) {
    if (!ImGui::CollapsingHeader("Calibration", ImGuiTreeNodeFlags_DefaultOpen)) return;
    if (session.imported()) {
        ImGui::TextColored({1, 0.8f, 0.3f, 1}, "Using imported certificate %s",
                           session.imported_name().c_str());
        ImGui::SameLine();
        if (ImGui::SmallButton("Drop it")) session.drop_import();
        if (const std::size_t seen = session.cases_calibrated_by_import(); seen > 0) {
            ImGui::TextColored({1, 0.7f, 0.3f, 1},
                               "%zu loaded case(s) are among its calibration cases (same "
                               "SHA-256): its guarantee is for new cases, not these.",
                               seen);
        }
        return;
    }
    CalibrationSettings settings = session.settings();
    float epsilon = static_cast<float>(settings.epsilon),
          alpha = static_cast<float>(settings.alpha);
    bool changed = false;
    if (ImGui::SliderFloat("epsilon (FNR tolerance)", &epsilon, 0.0f, 0.95f, "%.3f")) {
        settings.epsilon = std::round(epsilon * 1000.0) / 1000.0;  // decimals, as typed
        changed = true;
    }
    ui.rects.remember("epsilon");
    if (ImGui::SliderFloat("alpha (risk level)", &alpha, 0.01f, 0.95f, "%.3f")) {
        settings.alpha = std::round(alpha * 1000.0) / 1000.0;
        changed = true;
    }
    ui.rects.remember("alpha");
    int method = static_cast<int>(settings.method);
    if (ImGui::Combo("method", &method,
                     "CLS (conformal, per case)\0CRC (expected FNR)\0Fixed threshold\0")) {
        settings.method = static_cast<Method>(method);
        changed = true;
    }
    int policy = static_cast<int>(settings.empty_masks);
    if (ImGui::Combo("empty masks", &policy, "satisfied (t_i = +inf)\0exclude\0")) {
        settings.empty_masks = static_cast<EmptyMaskPolicy>(policy);
        changed = true;
    }
    if (settings.method == Method::fixed) {
        float t = static_cast<float>(settings.fixed_threshold);
        if (ImGui::SliderFloat("threshold", &t, 0.0f, 1.0f, "%.3f")) {
            settings.fixed_threshold = t;
            changed = true;
        }
    }
    if (changed) (void)session.set_settings(settings);  // the widgets keep values in range
    draw_region(session, ui);

    const Result<Calibration>& r = session.calibration();
    if (!r) {
        ImGui::PushStyleColor(ImGuiCol_Text, IM_COL32(255, 180, 80, 255));
        ImGui::TextWrapped("%s", r.error().message.c_str());
        ImGui::PopStyleColor();
        return;
    }
    ImGui::Text("tau = %.6g", r->threshold);
    if (r->settings.method == Method::cls) {
        ImGui::SameLine();
        ImGui::TextDisabled("k = floor((n+1) alpha) = %zu of n = %zu", r->k, r->n);
        ImGui::TextWrapped("For a new case like these, P(FNR <= %.3g) >= %.3g.",
                           r->settings.epsilon, 1.0 - r->settings.alpha);
        draw_guarantee_in_words(*r);
    }
    draw_plots(session, ui);
    draw_case_table(session);
    draw_set_aside_table(session);
}

}  // namespace cls::app
