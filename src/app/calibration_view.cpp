// The calibration panel's plots and per-case table (App members, apart from app.cpp to keep
// each file to one concern).
#include <algorithm>
#include <cmath>
#include <numeric>

#include "app.hpp"
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

void App::draw_calibration_plots() {
    const Result<Calibration>& r = session_.result();
    const double tau = r->threshold;
    const double epsilon = r->settings.epsilon;
    const std::vector<double> fnr = session_.fnr_at_threshold();
    const float width = ImGui::GetContentRegionAvail().x;

    ImGui::TextUnformatted("FNR of every calibration case vs threshold");
    {
        const Plot plot("fnr_curves", {width, 180}, 0.0, 1.0, 0.0, 1.0, "threshold t", "FNR");
        const auto& cases = session_.cases();
        for (std::size_t i = 0; i < cases.size(); ++i) {
            draw_fnr_curve(plot, cases[i].sorted_lesion_probabilities,
                           i < fnr.size() && fnr[i] > epsilon ? kViolating : kCurve);
        }
        plot.horizontal(epsilon, kEpsilon, "epsilon");
        if (std::isfinite(tau)) plot.vertical(tau, kTau, "tau");
        remember_rect("fnr_plot");
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
        remember_rect("histogram");
    }
    if (infinite > 0) ImGui::TextDisabled("%d cases with t_i = +inf (empty masks)", infinite);
    const auto covered =
        std::count_if(fnr.begin(), fnr.end(), [&](double f) { return f <= epsilon; });
    ImGui::Text("At tau, %lld of %zu calibration cases have FNR <= epsilon.",
                static_cast<long long>(covered), fnr.size());
}

void App::draw_case_table() {
    const Result<Calibration>& r = session_.result();
    const std::vector<double> fnr = session_.fnr_at_threshold();
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
        if (ImGui::Selectable(c.name.c_str(), c.name == selected_,
                              ImGuiSelectableFlags_SpanAllColumns)) {
            select_case(c.name);
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

}  // namespace cls::app
