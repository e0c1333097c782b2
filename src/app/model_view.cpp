// The model panel and the driving of inference (App members, apart from app.cpp to keep each
// file to one concern): which model is loaded and how it fits its manifest, the form that
// prefills a manifest for a model that came without one, which execution provider runs and
// why, and the inference progress with cancel. The page runs each patch; C++ plans and blends.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "app.hpp"
#include "cls/nifti.hpp"
#include "cls/sha256.hpp"

namespace cls::app {
namespace {

constexpr ImU32 kWarning = IM_COL32(255, 180, 80, 255);
constexpr ImU32 kError = IM_COL32(255, 110, 110, 255);

const char* status_text(ModelStatus status) {
    switch (status) {
        case ModelStatus::none:
            return "no model loaded";
        case ModelStatus::needs_manifest:
            return "needs a manifest";
        case ModelStatus::starting:
            return "starting a session...";
        case ModelStatus::ready:
            return "ready";
        case ModelStatus::failed:
            return "failed";
    }
    return "";
}

void wrapped(ImU32 colour, const std::string& text) {
    ImGui::PushStyleColor(ImGuiCol_Text, colour);
    ImGui::TextWrapped("%s", text.c_str());
    ImGui::PopStyleColor();
}

}  // namespace

void App::load_json(const PendingFile& file) {
    const std::string_view text(reinterpret_cast<const char*>(file.bytes.data()),
                                file.bytes.size());
    const auto document = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    const bool manifest =
        document.is_object() && document.contains("format") && document["format"] == "cls-model/1";
    if (!manifest) {
        if (Status imported = import_certificate(text, file.path); !imported)
            report_error(imported.error().message);
        return;
    }
    auto parsed = inference::parse_model_manifest(text);
    if (!parsed) return report_error(parsed.error().in(file.path).message);
    if (Status added = model_.add_manifest(std::move(*parsed), file.path); !added)
        report_error(added.error().message);
}

void App::advance_inference() {
    if (model_.take_session_request()) {
        inference_.cancel();
        inference_.forget_attempts();
        const bool webgpu = allow_webgpu_ && model_.audit().webgpu_ok();
        // The rewrite goes to the page only for a WebGPU session (wasm runs the file itself).
        platform_.start_model_session(
            model_.file_name(), *model_.manifest(), webgpu,
            webgpu ? model_.webgpu_model() : std::span<const std::uint8_t>{});
    }
    for (std::string& e : inference_.take_errors()) report_error(std::move(e));
    if (!model_.ready()) return;
    if (auto_run_) {
        for (const LoadedCase& c : store_.cases()) {
            if (c.volume(Role::image) && !c.volume(Role::probability) &&
                !inference_.attempted(c.name)) {
                inference_.enqueue(c.name);
            }
        }
    }
    if (auto request = inference_.next_request(store_, *model_.manifest(), window_settings_,
                                               platform_.memory_available()))
        platform_.run_network(request->input, request->shape);
    for (std::string& e : inference_.take_errors()) report_error(std::move(e));
}

void App::network_output(std::span<const float> output) {
    if (auto finished = inference_.accept(output)) {
        // Hashed as exported (an uncompressed .nii), so a certificate's hash matches that file.
        const std::vector<std::uint8_t> bytes = nifti::write(finished->probability, {});
        auto added = store_.add("model/" + finished->case_name + "_prob.nii", Role::probability,
                                std::move(finished->probability), sha256_hex(bytes));
        if (!added) report_error(added.error().message);
        if (finished->case_name == selected_) viewer_.show(store_.find(selected_));
    }
    // The next patch goes out now, not at the next frame: the network never waits on drawing.
    advance_inference();
}

void App::network_failed(const std::string& message) { inference_.run_failed(message); }

void App::model_session_started(std::string provider, std::string note) {
    model_.session_started(std::move(provider), std::move(note));
}

void App::model_session_failed(std::string message) {
    model_.session_failed(std::move(message));
    report_error(model_.error());
}

void App::model_provider_changed(std::string provider, std::string reason) {
    model_.provider_changed(std::move(provider), std::move(reason));
}

void App::cancel_inference() { inference_.cancel(); }

void App::set_execution_preference(bool allow_webgpu) { allow_webgpu_ = allow_webgpu; }

std::vector<std::uint8_t> App::probability_nifti(const std::string& name) const {
    const LoadedCase* c = store_.find(name);
    if (c == nullptr || c->volume(Role::probability) == nullptr) return {};
    return nifti::write(*c->volume(Role::probability), {});
}

void App::export_probability_map() {
    const LoadedCase* c = viewer_.shown();
    if (c == nullptr) return;
    std::vector<std::uint8_t> bytes = probability_nifti(c->name);
    if (!bytes.empty()) platform_.download(c->name + "_prob.nii", bytes, /*gzip=*/false);
}

nlohmann::json App::model_json() const {
    const auto& manifest = model_.manifest();
    return {{"status", status_text(model_.status())},
            {"file", model_.file_name()},
            {"name", manifest ? manifest->name : ""},
            {"provider", model_.provider()},
            {"provider_note", model_.provider_note()},
            {"webgpu_blocked_by", model_.audit().blocking},
            {"webgpu_rewrites", model_.webgpu_rewrites()},
            {"error", model_.error()},
            {"running", inference_.busy()},
            {"current", inference_.current_case()},
            {"runs_done", inference_.runs_done()},
            {"run_count", inference_.run_count()},
            {"cases_done", inference_.cases_done()},
            {"cases_total", inference_.cases_total()},
            {"patches_run", inference_.patches_run()}};
}

void App::draw_model_panel() {
    if (!ImGui::CollapsingHeader("Model", ImGuiTreeNodeFlags_DefaultOpen)) return;
    const ModelStatus status = model_.status();
    if (status == ModelStatus::none) {
        ImGui::TextWrapped(
            "Open or drop an .onnx model with its manifest (.json), or load the "
            "demo, which brings the bundled model.");
        return;
    }
    const auto& manifest = model_.manifest();
    ImGui::Text("%s: %s", model_.file_name().c_str(), status_text(status));
    if (manifest && status != ModelStatus::needs_manifest) {
        ImGui::TextDisabled("%s, patch %lldx%lldx%lld, %s normalisation", manifest->name.c_str(),
                            static_cast<long long>(manifest->patch_size[0]),
                            static_cast<long long>(manifest->patch_size[1]),
                            static_cast<long long>(manifest->patch_size[2]),
                            inference::to_string(manifest->normalisation.scheme));
    }
    if (!model_.provider().empty()) {
        ImGui::Text("Runs on: %s", model_.provider().c_str());
        remember_rect("model_provider");
    }
    if (!model_.provider_note().empty()) wrapped(kWarning, model_.provider_note());
    for (const std::string& note : model_.audit().blocking)
        wrapped(kWarning, "WebGPU avoided: " + note);
    if (const auto& rewrites = model_.webgpu_rewrites(); !rewrites.empty()) {
        ImGui::TextWrapped(
            "Rewritten for WebGPU: %zu ConvTranspose node%s as 1x1x1 Conv and "
            "depth-to-space, same weights (wasm runs the file as loaded)",
            rewrites.size(), rewrites.size() == 1 ? "" : "s");
        remember_rect("model_webgpu_rewrite");
        if (ImGui::IsItemHovered()) {
            ImGui::BeginTooltip();
            for (const std::string& line : rewrites) ImGui::TextUnformatted(line.c_str());
            ImGui::EndTooltip();
        }
    }
    for (const std::string& note : model_.audit().notes) ImGui::TextDisabled("%s", note.c_str());
    if (status == ModelStatus::failed) wrapped(kError, model_.error());
    if (status == ModelStatus::needs_manifest) draw_manifest_form();

    if (inference_.busy()) {
        const std::size_t total = inference_.run_count();
        const float done =
            total ? static_cast<float>(inference_.runs_done()) / static_cast<float>(total) : 0.0f;
        char label[128];
        std::snprintf(label, sizeof label, "%s: patch %zu/%zu (case %zu/%zu)",
                      inference_.current_case().c_str(), inference_.runs_done(), total,
                      inference_.cases_done() + 1, inference_.cases_total());
        ImGui::ProgressBar(done, {-80, 0}, label);
        ImGui::SameLine();
        if (ImGui::Button("Cancel##inference")) cancel_inference();
        remember_rect("cancel_inference");
    }
    ImGui::Checkbox("Run on images without a probability map", &auto_run_);
    if (!auto_run_ && model_.ready() && !inference_.busy()) {
        if (ImGui::Button("Run now")) {
            for (const LoadedCase& c : store_.cases())
                if (c.volume(Role::image) && !c.volume(Role::probability))
                    inference_.enqueue(c.name);
        }
    }
    float overlap = static_cast<float>(window_settings_.overlap);
    if (ImGui::SliderFloat("patch overlap", &overlap, 0.0f, 0.9f, "%.2f"))
        window_settings_.overlap = std::round(overlap * 100.0) / 100.0;
    ImGui::Checkbox("Mirror test-time augmentation (8x slower)", &window_settings_.mirror);
    if (ImGui::Checkbox("Try WebGPU first", &allow_webgpu_) && model_.manifest())
        model_.request_session();
    ImGui::TextDisabled("Settings apply to cases run from now on.");
}

void App::draw_manifest_form() {
    inference::ModelManifest& draft = model_.draft();
    wrapped(kWarning,
            "This model came without a manifest. Check the fields, prefilled from its "
            "input shape, then use them.");
    if (const auto& info = model_.info()) {
        ImGui::TextDisabled("input %s %s", info->inputs.front().name.c_str(),
                            inference::shape_text(info->inputs.front().dims).c_str());
    }
    int patch[3] = {static_cast<int>(draft.patch_size[0]), static_cast<int>(draft.patch_size[1]),
                    static_cast<int>(draft.patch_size[2])};
    if (ImGui::InputInt3("patch D, H, W", patch)) {
        for (int i = 0; i < 3; ++i) draft.patch_size[static_cast<std::size_t>(i)] = patch[i];
    }
    int activation = static_cast<int>(draft.activation);
    if (ImGui::Combo("output activation", &activation, "none (probabilities)\0sigmoid\0softmax\0"))
        draft.activation = static_cast<inference::Activation>(activation);
    if (draft.activation == inference::Activation::softmax)
        ImGui::InputInt("lesion class", &draft.lesion_class);
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
        if (Status valid = inference::validate(draft); !valid) {
            report_error("manifest form: " + valid.error().message);
        } else if (Status added = model_.add_manifest(draft, "the manifest form"); !added) {
            report_error(added.error().message);
        }
    }
    ImGui::SameLine();
    if (ImGui::Button("Save it (.json)")) {
        const std::string json = inference::to_json(draft);
        platform_.download(draft.name + ".json", {json.begin(), json.end()}, /*gzip=*/false);
    }
}

}  // namespace cls::app
