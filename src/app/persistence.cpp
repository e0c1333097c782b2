// What survives a reload (App members, apart from app.cpp to keep each file to one concern):
// the user's settings and the calibrations they chose to keep, stored by the page in the
// browser's IndexedDB (never sent anywhere) and handed back at start-up through restore().
// Kept calibrations are certificates: they can be used again on new cases, exported, forgotten.
#include <nlohmann/json.hpp>

#include "app.hpp"

namespace cls::app {
namespace {

using nlohmann::json;

constexpr const char* kSettingsKey = "settings";
constexpr const char* kKeptKey = "kept_calibrations";

template <class T>
void read_if(const json& object, const char* key, T& target) {
    auto it = object.find(key);
    if (it == object.end()) return;
    if constexpr (std::is_same_v<T, bool>) {
        if (it->is_boolean()) target = it->get<bool>();
    } else if constexpr (std::is_same_v<T, std::string>) {
        if (it->is_string()) target = it->get<std::string>();
    } else {
        if (it->is_number()) target = it->get<T>();
    }
}

}  // namespace

std::string App::settings_json() const {
    return json{{"method", to_string(settings_.method)},
                {"epsilon", settings_.epsilon},
                {"alpha", settings_.alpha},
                {"empty_masks", to_string(settings_.empty_masks)},
                {"fixed_threshold", settings_.fixed_threshold},
                {"overlap", window_settings_.overlap},
                {"mirror", window_settings_.mirror},
                {"auto_run", auto_run_},
                {"allow_webgpu", allow_webgpu_}}
        .dump();
}

void App::persist_changes() {
    std::string settings = settings_json();
    if (settings != saved_settings_) {
        platform_.save(kSettingsKey, settings);
        saved_settings_ = std::move(settings);
    }
}

void App::save_kept() {
    json list = json::array();
    for (const KeptCalibration& k : kept_)
        list.push_back({{"label", k.label}, {"certificate", k.certificate_json}});
    platform_.save(kKeptKey, list.dump());
}

void App::restore(std::string_view key, std::string_view text) {
    const json document = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (key == kSettingsKey && document.is_object()) {
        CalibrationSettings restored = settings_;
        std::string method, policy;
        read_if(document, "method", method);
        read_if(document, "empty_masks", policy);
        if (auto m = parse_method(method)) restored.method = *m;
        if (auto p = parse_empty_mask_policy(policy)) restored.empty_masks = *p;
        read_if(document, "epsilon", restored.epsilon);
        read_if(document, "alpha", restored.alpha);
        read_if(document, "fixed_threshold", restored.fixed_threshold);
        if (validate(restored)) settings_ = restored;  // else keep the defaults
        inference::WindowSettings window = window_settings_;
        read_if(document, "overlap", window.overlap);
        read_if(document, "mirror", window.mirror);
        if (window.overlap >= 0.0 && window.overlap < 1.0) window_settings_ = window;
        read_if(document, "auto_run", auto_run_);
        read_if(document, "allow_webgpu", allow_webgpu_);
        saved_settings_ = settings_json();
    } else if (key == kKeptKey && document.is_array()) {
        kept_.clear();
        for (const json& item : document) {
            if (!item.is_object()) continue;
            KeptCalibration k;
            read_if(item, "label", k.label);
            read_if(item, "certificate", k.certificate_json);
            if (parse_certificate(k.certificate_json)) kept_.push_back(std::move(k));
        }
    }
}

void App::keep_calibration() {
    sync_calibration();
    const std::optional<Certificate> certificate = session_.certificate(store_, lesion_.definition());
    if (!certificate) return;
    const Calibration& c = certificate->calibration;
    char label[160];
    std::snprintf(label, sizeof label, "%s, eps %.3g, alpha %.3g, n %zu: tau %.6g",
                  std::string(to_string(c.settings.method)).c_str(), c.settings.epsilon,
                  c.settings.alpha, c.n, c.threshold);
    kept_.push_back({label, to_json(*certificate)});
    save_kept();
}

void App::use_kept(std::size_t index) {
    if (index >= kept_.size()) return;
    if (Status imported = import_certificate(kept_[index].certificate_json, kept_[index].label);
        !imported) {
        report_error(imported.error().message);
    }
}

void App::forget_kept(std::size_t index) {
    if (index >= kept_.size()) return;
    kept_.erase(kept_.begin() + static_cast<std::ptrdiff_t>(index));
    save_kept();
}

void App::draw_kept_calibrations() {
    ImGui::BeginDisabled(!session_.result().ok() || imported_.has_value());
    if (ImGui::Button("Keep this calibration in this browser")) keep_calibration();
    remember_rect("keep_calibration");
    ImGui::EndDisabled();
    if (kept_.empty()) return;
    ImGui::TextDisabled("Kept in this browser (IndexedDB, never uploaded):");
    for (std::size_t i = 0; i < kept_.size(); ++i) {
        ImGui::PushID(static_cast<int>(i));
        ImGui::TextWrapped("%s", kept_[i].label.c_str());
        if (ImGui::SmallButton("Use")) use_kept(i);
        ImGui::SameLine();
        if (ImGui::SmallButton("Export")) {
            const std::string& text = kept_[i].certificate_json;
            platform_.download("calibration_certificate.json", {text.begin(), text.end()},
                               /*gzip=*/false);
        }
        ImGui::SameLine();
        if (ImGui::SmallButton("Forget")) forget_kept(i);
        ImGui::PopID();
    }
}

}  // namespace cls::app
