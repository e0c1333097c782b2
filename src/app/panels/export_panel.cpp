#include "export_panel.hpp"

#include <imgui.h>

#include <cmath>

namespace cls::app {

void download(Platform& platform, const std::optional<OutputFile>& file) {
    if (file) platform.download(file->name, file->bytes, file->gzip);
}

void ExportPanel::draw(Session& session, PanelContext& ui) {
    if (!ImGui::CollapsingHeader("Export and import")) return;
    const CaseId shown = session.selected();
    const LoadedCase* c = session.cases().find(shown);
    const bool has_map = c != nullptr && c->volume(Role::probability) != nullptr;
    ImGui::BeginDisabled(!has_map || std::isnan(session.threshold()));
    if (ImGui::Button("Mask of this case (.nii.gz)"))
        download(ui.platform, session.mask_file(shown));
    ImGui::EndDisabled();
    ImGui::BeginDisabled(!has_map);
    if (ImGui::Button("Probability map of this case (.nii)"))
        download(ui.platform, session.probability_file(shown));
    ImGui::EndDisabled();
    ImGui::BeginDisabled(!session.calibration().ok() || session.imported().has_value());
    if (ImGui::Button("Calibration certificate (.json)"))
        download(ui.platform, session.certificate_file());
    ImGui::EndDisabled();
    ImGui::TextDisabled("Import a certificate: open or drop its .json file.");
    draw_kept(session, ui);
}

void ExportPanel::draw_kept(Session& session, PanelContext& ui) {
    ImGui::BeginDisabled(!session.calibration().ok() || session.imported().has_value());
    if (ImGui::Button("Keep this calibration in this browser")) session.keep_calibration();
    ui.rects.remember("keep_calibration");
    ImGui::EndDisabled();
    const std::vector<KeptCalibration>& kept = session.kept().items();
    if (kept.empty()) return;
    ImGui::TextDisabled("Kept in this browser (IndexedDB, never uploaded):");
    for (std::size_t i = 0; i < kept.size(); ++i) {
        ImGui::PushID(static_cast<int>(i));
        ImGui::TextWrapped("%s", kept[i].label.c_str());
        if (ImGui::SmallButton("Use")) {
            if (Status used = session.use_kept(i); !used)
                session.report_error(used.error().message);
        }
        ImGui::SameLine();
        if (ImGui::SmallButton("Export")) {
            const std::string& text = kept[i].certificate_json;
            ui.platform.download("calibration_certificate.json", {text.begin(), text.end()},
                                 /*gzip=*/false);
        }
        ImGui::SameLine();
        const bool forget = ImGui::SmallButton("Forget");
        ImGui::PopID();
        if (forget) {
            session.forget_kept(i);
            break;  // the list changed under the loop
        }
    }
}

}  // namespace cls::app
