#include "model_panel.hpp"

#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace cls::app {

void ModelPanel::draw(Session& session, PanelContext& ui) {
    if (!ImGui::CollapsingHeader("Model", ImGuiTreeNodeFlags_DefaultOpen)) return;
    const ModelSlot& model = session.model();
    const ModelStatus status = model.status();
    if (status == ModelStatus::none) {
        ImGui::TextWrapped(
            "Open or drop an .onnx model with its manifest (.json), or load the "
            "demo, which brings the bundled model.");
        return;
    }
    const auto& manifest = model.manifest();
    ImGui::Text("%s: %s", model.file_name().c_str(), std::string(to_string(status)).c_str());
    if (manifest && status != ModelStatus::needs_manifest) {
        ImGui::TextDisabled(
            "%s, patch %lldx%lldx%lld, %s normalisation", manifest->name.c_str(),
            static_cast<long long>(manifest->patch_size[0]),
            static_cast<long long>(manifest->patch_size[1]),
            static_cast<long long>(manifest->patch_size[2]),
            std::string(inference::to_string(manifest->normalisation.scheme)).c_str());
    }
    if (!model.provider().empty()) {
        ImGui::Text("Runs on: %s", model.provider().c_str());
        ui.rects.remember("model_provider");
    }
    if (!model.provider_note().empty()) wrapped_text(kWarningColour, model.provider_note());
    for (const std::string& note : model.audit().blocking)
        wrapped_text(kWarningColour, "WebGPU avoided: " + note);
    if (const auto& rewrites = model.webgpu_rewrites(); !rewrites.empty()) {
        ImGui::TextWrapped(
            "Rewritten for WebGPU: %zu ConvTranspose node%s as 1x1x1 Conv and "
            "depth-to-space, same weights (wasm runs the file as loaded)",
            rewrites.size(), rewrites.size() == 1 ? "" : "s");
        ui.rects.remember("model_webgpu_rewrite");
        if (ImGui::IsItemHovered()) {
            ImGui::BeginTooltip();
            for (const std::string& line : rewrites) ImGui::TextUnformatted(line.c_str());
            ImGui::EndTooltip();
        }
    }
    for (const std::string& note : model.audit().notes) ImGui::TextDisabled("%s", note.c_str());
    if (status == ModelStatus::failed) wrapped_text(kErrorColour, model.error());
    if (status == ModelStatus::needs_manifest) draw_manifest_form(session, ui);

    const InferenceQueue& inference = session.inference();
    if (inference.busy()) {
        const std::size_t total = inference.run_count();
        const float done =
            total ? static_cast<float>(inference.runs_done()) / static_cast<float>(total) : 0.0f;
        char label[128];
        std::snprintf(label, sizeof label, "%s: patch %zu/%zu (case %zu/%zu)",
                      inference.current_case().c_str(), inference.runs_done(), total,
                      inference.cases_done() + 1, inference.cases_total());
        ImGui::ProgressBar(done, {-80, 0}, label);
        ImGui::SameLine();
        if (ImGui::Button("Cancel##inference")) session.cancel_inference();
        ui.rects.remember("cancel_inference");
        if (!inference.grid_note().empty())
            ImGui::TextWrapped("The model's grid: %s.", inference.grid_note().c_str());
    }
    if (inference.patches_skipped() > 0) {
        ImGui::TextDisabled("%zu patches run, %zu skipped as background", inference.patches_run(),
                            inference.patches_skipped());
    }
    InferenceOptions options = session.inference_options();
    bool changed = ImGui::Checkbox("Run on images without a probability map", &options.auto_run);
    if (!options.auto_run && model.ready() && !inference.busy() && ImGui::Button("Run now"))
        session.run_model_now();
    float overlap = static_cast<float>(options.window.overlap);
    if (ImGui::SliderFloat("patch overlap", &overlap, 0.0f, 0.9f, "%.2f")) {
        options.window.overlap = std::round(overlap * 100.0) / 100.0;
        changed = true;
    }
    changed |= ImGui::Checkbox("Mirror test-time augmentation (8x slower)", &options.window.mirror);
    changed |= ImGui::Checkbox("Try WebGPU first", &options.allow_webgpu);
    if (changed) session.set_inference_options(options);
    ImGui::TextDisabled("Settings apply to cases run from now on.");
}

namespace {

// Which output channels are lesion: a softmax's classes, ticked and summed (every channel but
// the background at first); one channel of several sigmoid or plain ones.
void draw_lesion_channels(inference::ModelManifest& draft) {
    if (draft.activation == inference::Activation::softmax) {
        ImGui::TextUnformatted("lesion classes (summed)");
        std::vector<int> classes;
        for (int c = 0; c < draft.output_channels; ++c) {
            bool ticked = std::find(draft.lesion_classes.begin(), draft.lesion_classes.end(), c) !=
                          draft.lesion_classes.end();
            ImGui::SameLine();
            ImGui::Checkbox(("##class" + std::to_string(c)).c_str(), &ticked);
            ImGui::SameLine(0.0f, 2.0f);
            ImGui::Text("%d", c);
            if (ticked) classes.push_back(c);
        }
        draft.lesion_classes = std::move(classes);
    } else if (draft.output_channels > 1) {
        ImGui::InputInt("lesion channel", &draft.lesion_channel);
    }
}

}  // namespace

// A model of several input channels: which modality each is, as the cases' BIDS names say
// ("FLAIR, T1, T1c, T2"), or none for nnU-Net's _0000, _0001, ... suffixes.
void ModelPanel::draw_input_channels(inference::ModelManifest& draft) {
    if (draft.input_channels < 2) return;
    ImGui::TextWrapped(
        "The model takes %d input channels: one image per channel for each case, placed by "
        "nnU-Net's _0000 ... suffixes, or by BIDS suffixes (sub-01_FLAIR) naming the modalities "
        "listed here, in order.",
        draft.input_channels);
    if (ImGui::InputText("modalities", modalities_.data(), modalities_.size())) {
        draft.input_modalities.clear();
        std::string name;
        for (const char* c = modalities_.data();; ++c) {
            if (*c == ',' || *c == '\0') {
                if (!name.empty()) draft.input_modalities.push_back(name);
                name.clear();
                if (*c == '\0') break;
            } else if (*c != ' ') {
                name += *c;
            }
        }
    }
}

void ModelPanel::draw_manifest_form(Session& session, PanelContext& ui) {
    inference::ModelManifest& draft = session.manifest_draft();
    wrapped_text(kWarningColour,
                 "This model came without a manifest. Check the fields, prefilled from its "
                 "input shape, then use them.");
    if (const auto& info = session.model().info()) {
        ImGui::TextDisabled("input %s %s", info->inputs.front().name.c_str(),
                            inference::shape_text(info->inputs.front().dims).c_str());
    }
    int patch[3] = {static_cast<int>(draft.patch_size[0]), static_cast<int>(draft.patch_size[1]),
                    static_cast<int>(draft.patch_size[2])};
    if (ImGui::InputInt3("patch D, H, W", patch)) {
        for (int i = 0; i < 3; ++i) draft.patch_size[static_cast<std::size_t>(i)] = patch[i];
    }
    draw_input_channels(draft);
    int activation = static_cast<int>(draft.activation);
    if (ImGui::Combo("output activation", &activation, "none (probabilities)\0sigmoid\0softmax\0"))
        draft.activation = static_cast<inference::Activation>(activation);
    draw_lesion_channels(draft);
    int scheme = static_cast<int>(draft.normalisation.scheme);
    if (ImGui::Combo("normalisation", &scheme, "none\0z-score\0CT window\0percentiles\0"))
        draft.normalisation.scheme = static_cast<inference::NormalisationScheme>(scheme);
    if (draft.normalisation.scheme == inference::NormalisationScheme::zscore) {
        ImGui::Checkbox("over non-zero voxels only", &draft.normalisation.nonzero_only);
    } else if (draft.normalisation.scheme != inference::NormalisationScheme::none) {
        double range[2] = {draft.normalisation.low, draft.normalisation.high};
        if (ImGui::InputScalarN("low, high", ImGuiDataType_Double, range, 2)) {
            draft.normalisation.low = range[0];
            draft.normalisation.high = range[1];
        }
    }
    if (ImGui::Button("Use this manifest")) {
        if (Status used = session.use_manifest_draft(); !used)
            session.report_error(used.error().message);
    }
    ImGui::SameLine();
    if (ImGui::Button("Save it (.json)")) {
        const std::string json = inference::to_json(draft);
        ui.platform.download(draft.name + ".json", {json.begin(), json.end()}, /*gzip=*/false);
    }
}

}  // namespace cls::app
