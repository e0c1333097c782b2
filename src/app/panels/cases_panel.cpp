#include "cases_panel.hpp"

#include <imgui.h>

#include <cstdio>

namespace cls::app {
namespace {

std::string lesion_text(const LesionDefinition& lesion) {
    const std::string channels = lesion.channels.single()
                                     ? std::string("single-channel maps")
                                     : "channels " + channels_text(lesion.channels) + " (" +
                                           std::string(to_string(lesion.channels.combine)) + ")";
    return "lesion: " + channels + ", labels " + labels_text(lesion.labels);
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
    ImGui::Text("%zu cases, %zu with label and probability map", store.cases().size(),
                store.labelled_count());
    if (session.lesion().chosen()) {
        ImGui::TextDisabled("%s", lesion_text(session.lesion().definition()).c_str());
        ImGui::SameLine();
        if (ImGui::SmallButton("Change (clears the cases)")) session.forget_lesion_choice();
    }
    if (ImGui::BeginListBox("##cases", {-1, 110})) {
        for (const LoadedCase& c : store.cases()) {
            std::string line = c.name + "  ";
            for (Role role : kRoles)
                line += c.volume(role) ? (role == Role::image   ? "I"
                                          : role == Role::label ? "L"
                                                                : "P")
                                       : "-";
            if (ImGui::Selectable(line.c_str(), c.id == session.selected())) session.select(c.id);
        }
        ImGui::EndListBox();
    }
    if (session.errors().empty() && session.notes().empty()) return;
    for (const std::string& e : session.errors()) wrapped_text(kErrorColour, e);
    for (const std::string& n : session.notes()) ImGui::TextDisabled("%s", n.c_str());
    if (ImGui::SmallButton("Dismiss")) session.dismiss_messages();
}

}  // namespace cls::app
