#include "cases_panel.hpp"

#include <imgui.h>

#include <cstdio>
#include <iterator>

namespace cls::app {
namespace {

// What can be done to the case the user looks at: remove it, and set a labelled case aside as
// a new case, whose label then says how the mask at tau did (the demo's real patients come
// so), or back into calibration.
void selected_case_buttons(Session& session, PanelContext& ui) {
    const LoadedCase* c = session.cases().find(session.selected());
    if (c == nullptr) return;
    if (ImGui::SmallButton("Remove")) {
        const std::string name = c->name;
        if (Status removed = session.remove_case(name); !removed)
            session.report_error(removed.error().message);
        return;
    }
    ui.rects.remember("remove_case");
    if (!(c->labelled() || c->set_aside)) return;
    ImGui::SameLine();
    if (c->set_aside) {
        if (ImGui::SmallButton("Calibrate on it")) session.set_aside_case(c->name, false);
        ImGui::SameLine();
        ImGui::TextDisabled("%s is a new case: its label only says how its mask did",
                            c->name.c_str());
    } else {
        if (ImGui::SmallButton("Set aside as a new case")) session.set_aside_case(c->name, true);
        ImGui::SameLine();
        ImGui::TextDisabled("%s calibrates", c->name.c_str());
    }
}

}  // namespace

void CasesPanel::draw(Session& session, PanelContext& ui) {
    if (!ImGui::CollapsingHeader("Cases", ImGuiTreeNodeFlags_DefaultOpen)) return;
    if (ImGui::Button("Open files...")) ui.platform.open_file_picker();
    ui.rects.remember("open_files");
    ImGui::SameLine();
    if (ImGui::Button("Load demo")) ui.platform.load_demo(Platform::Demo::scans);
    ui.rects.remember("load_demo");
    ImGui::SameLine();
    if (ImGui::Button("Probability demo")) ui.platform.load_demo(Platform::Demo::probabilities);
    ui.rects.remember("load_probability_demo");
    ImGui::SameLine();
    if (ImGui::Button("Clear")) session.clear_cases();
    ImGui::TextDisabled("or drop .nii / .nii.gz / .npz / .onnx files or folders on the page");

    if (const LoadingProgress loading = session.loading(); loading.done < loading.total) {
        char label[64];
        std::snprintf(label, sizeof label, "loading %zu/%zu", loading.done, loading.total);
        ImGui::ProgressBar(static_cast<float>(loading.done) / static_cast<float>(loading.total),
                           {-80, 0}, label);
        ImGui::SameLine();
        if (ImGui::Button("Cancel")) session.cancel_loading();
    }
    const CaseStore& store = session.cases();
    ImGui::Text("%zu cases, %zu calibrating (labelled, with a map or a score)",
                store.cases().size(), store.calibrating_count());
    if (session.lesion().chosen()) {
        ImGui::TextDisabled("%s", describe(session.lesion().definition()).c_str());
        ImGui::SameLine();
        if (ImGui::SmallButton("Change (clears the cases)")) session.forget_lesion_choice();
    }
    std::size_t unlike = 0;
    if (ImGui::BeginListBox("##cases", {-1, 110})) {
        constexpr const char* kLetters[] = {"I", "L", "P", "M"};  // by Role
        static_assert(std::size(kLetters) == kRoles.size());
        for (const LoadedCase& c : store.cases()) {
            std::string line = c.name + "  ";
            if (c.scored) {
                line += "score";
            } else {
                for (Role role : kRoles)
                    line += c.volume(role) ? kLetters[static_cast<int>(role)] : "-";
            }
            if (c.set_aside) line += "  new";
            const std::optional<ExchangeabilityCheck> check = session.exchangeability(c.id);
            const bool flag = check && flagged(*check, session.flag_below());
            if (flag) {
                char p[32];
                std::snprintf(p, sizeof p, "  unlike (p = %.3g)", check->p_value);
                line += p;
                ++unlike;
                ImGui::PushStyleColor(ImGuiCol_Text, kWarningColour);
            }
            if (ImGui::Selectable(line.c_str(), c.id == session.selected())) session.select(c.id);
            if (flag) {
                ImGui::PopStyleColor();
                if (ImGui::IsItemHovered()) {
                    ImGui::SetTooltip("%s (furthest: %s)", unlike_warning(*check).c_str(),
                                      std::string(to_string(check->most_unlike)).c_str());
                }
            }
        }
        ImGui::EndListBox();
    }
    selected_case_buttons(session, ui);
    if (unlike > 0) {
        wrapped_text(kWarningColour, std::to_string(unlike) +
                                         " case(s) unlike the calibration set: the guarantee may "
                                         "not hold for them.");
    }
    if (session.errors().empty() && session.notes().empty()) return;
    for (const std::string& e : session.errors()) wrapped_text(kErrorColour, e);
    for (const std::string& n : session.notes()) ImGui::TextDisabled("%s", n.c_str());
    if (ImGui::SmallButton("Dismiss")) session.dismiss_messages();
}

}  // namespace cls::app
