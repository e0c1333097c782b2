#include "app.hpp"

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>

#include "cls/nifti.hpp"

namespace cls::app {
namespace {

constexpr float kSidePanelWidth = 430.0f;
constexpr std::size_t kMaxErrorsShown = 50;
constexpr double kMemoryHeadroom = 64.0 * 1024 * 1024;

std::string megabytes(double bytes) {
    char text[32];
    std::snprintf(text, sizeof text, "%.0f MB", bytes / 1e6);
    return text;
}

// The Validate tab's state, for tests and the page.
nlohmann::json validation_json(const ValidationJob& validation) {
    using nlohmann::json;
    json curves = json::object();
    std::size_t scatter_cases = 0;
    if (const auto& r = validation.result()) {
        for (const CoverageCurve& curve : r->curves) {
            json points = json::array();
            for (const CoveragePoint& p : curve.points) points.push_back({p.alpha, p.coverage});
            curves[std::string(to_string(curve.method))] = points;
        }
        scatter_cases = r->cls_cases.size();
    }
    return {{"running", validation.running()},
            {"progress", validation.progress()},
            {"error", validation.error()},
            {"calibration_cases", validation.result() ? validation.result()->calibration_cases : 0},
            {"coverage", curves},
            {"scatter_cases", scatter_cases}};
}

}  // namespace

nlohmann::json App::lesion_json() const {
    using nlohmann::json;
    const LesionDefinition& lesion = lesion_.definition();
    json question = nullptr;
    if (const auto& q = lesion_.question()) {
        const bool channels = q->kind == LesionChoice::Question::Kind::channels;
        question = {{"kind", channels ? "channels" : "labels"},
                    {"file", q->path},
                    {"channel_count", q->channel_count},
                    {"label_values", q->label_values}};
    }
    return {{"channels", lesion.channels.single() ? json(nullptr) : json(lesion.channels.channels)},
            {"combine", to_string(lesion.channels.combine)},
            {"labels", labels_text(lesion.labels)},
            {"question", question}};
}

void App::expect_files(std::size_t count) {
    if (job_done_ >= job_total_) job_total_ = job_done_ = job_announced_ = 0;  // a new job
    job_total_ += count;
    job_announced_ += count;
}

void App::enqueue_file(std::string path, std::vector<std::uint8_t> bytes, std::string sha256) {
    if (job_done_ >= job_total_) job_total_ = job_done_ = job_announced_ = 0;
    pending_.push_back({std::move(path), std::move(bytes), std::move(sha256)});
    if (job_announced_ > 0) {
        --job_announced_;
    } else {
        ++job_total_;
    }
}

void App::reject_file(std::string message) {
    report_error(std::move(message));
    if (job_announced_ > 0) {
        --job_announced_;
        ++job_done_;
    }
}

void App::report_error(std::string message) {
    errors_.push_back(std::move(message));
    if (errors_.size() > kMaxErrorsShown) errors_.erase(errors_.begin());
}

void App::load_one(PendingFile& file) {
    if (file.path.ends_with(".json")) return load_json(file);
    if (file.path.ends_with(".onnx")) {
        if (Status added = model_.add_model(file.path, file.bytes, std::move(file.sha256)); !added)
            report_error(added.error().message);
        return;
    }
    if (Status fits = check_memory_for(file); !fits) return report_error(fits.error().message);
    load_nifti(file);
}

void App::load_nifti(PendingFile& file) {
    auto image = nifti::read(file.bytes);  // the first volume: enough to tell the role
    if (!image) return report_error(image.error().in(file.path).message);
    const Role role = guess_role(file.path, image->volume);
    if (role == Role::probability) {
        auto channels = probability_channel_count(image->header);
        if (!channels) return report_error(channels.error().in(file.path).message);
        if (lesion_.needs_channels(*channels)) {
            lesion_.ask({LesionChoice::Question::Kind::channels, file.path, *channels, {}});
            awaiting_ = std::move(file);
            return;
        }
        auto map = read_probability_map(file.bytes, lesion_.definition().channels);
        if (!map) return report_error(map.error().in(file.path).message);
        image = std::move(map);
    } else if (role == Role::label) {
        if (auto classes = lesion_.label_classes_to_ask(image->volume.values())) {
            lesion_.ask({LesionChoice::Question::Kind::labels, file.path, 0, std::move(*classes)});
            awaiting_ = std::move(file);
            return;
        }
        auto label = read_label(file.bytes, lesion_.definition().labels);
        if (!label) return report_error(label.error().in(file.path).message);
        image = std::move(label);
    }
    auto added = store_.add(file.path, role, std::move(image->volume), std::move(file.sha256));
    if (!added) return report_error(added.error().message);
    if (selected_.empty()) selected_ = *added;
}

void App::resume_after_question(bool skipped) {
    if (!awaiting_) return;
    PendingFile file = std::move(*awaiting_);
    awaiting_.reset();
    const std::uint64_t generation = store_.generation();
    if (skipped) {
        report_error(file.path + ": not loaded (no answer to which of it is lesion)");
    } else {
        load_nifti(file);
    }
    if (!awaiting_) ++job_done_;
    if (store_.generation() != generation) viewer_.show(store_.find(selected_));
}

Status App::set_lesion_channels(const LesionChannels& channels) {
    if (Status chosen = lesion_.choose_channels(channels); !chosen) return chosen;
    resume_after_question(false);
    return Done{};
}

Status App::set_lesion_labels(const LesionLabels& labels) {
    if (Status chosen = lesion_.choose_labels(labels); !chosen) return chosen;
    resume_after_question(false);
    return Done{};
}

void App::skip_lesion_question() {
    lesion_.skip();
    resume_after_question(true);
}

void App::forget_lesion_choice() {
    clear_cases();
    lesion_.reset();
}

Status App::check_memory_for(const PendingFile& file) const {
    auto header = nifti::read_header(file.bytes);
    // A bad or truncated file: the full read says what is wrong with it, as the CLI does.
    if (!header || header->file_bytes() > static_cast<std::int64_t>(file.bytes.size()))
        return Done{};
    // Its first volume as float32, plus headroom for the slices and calibration.
    std::int64_t voxels = 1;
    for (std::size_t i = 0; i < std::min<std::size_t>(header->dims.size(), 3); ++i)
        voxels *= std::max<std::int64_t>(header->dims[i], 1);
    const double needed = 4.0 * static_cast<double>(voxels) + kMemoryHeadroom;
    const double available = static_cast<double>(platform_.memory_available());
    if (needed <= available) return Done{};
    return make_error(file.path + ": its voxels need " + megabytes(needed) + " but only " +
                      megabytes(available) +
                      " are left in this tab (WebAssembly has 4 GB in all); remove cases, or "
                      "use the cls command line, which has no such limit");
}

void App::advance_loading() {
    const auto start = std::chrono::steady_clock::now();
    const std::uint64_t generation = store_.generation();
    while (!pending_.empty() && !awaiting_ &&
           std::chrono::steady_clock::now() - start < frame_budget_) {
        PendingFile file = std::move(pending_.front());
        pending_.pop_front();
        load_one(file);
        if (!awaiting_) ++job_done_;  // a file waiting for an answer is counted once read
    }
    if (store_.generation() != generation) viewer_.show(store_.find(selected_));
}

void App::select_case(const std::string& name) {
    selected_ = name;
    viewer_.show(store_.find(name));
}

void App::cancel_loading() {
    pending_.clear();
    if (awaiting_) {
        awaiting_.reset();
        lesion_.skip();
    }
    job_total_ = job_done_;
    job_announced_ = 0;
    ++cancels_;
}

void App::clear_cases() {
    cancel_loading();
    store_.clear();
    selected_.clear();
    viewer_.show(nullptr);
}

Status App::import_certificate(std::string_view json, const std::string& file_name) {
    auto certificate = parse_certificate(json);
    if (!certificate) return certificate.error().in(file_name);
    settings_ = certificate->calibration.settings;
    imported_ = std::move(*certificate);
    imported_name_ = file_name;
    return Done{};
}

void App::sync_calibration() {
    session_.refresh(store_);
    session_.set_settings(settings_);
}

std::size_t App::cases_calibrated_by_import() const {
    if (!imported_) return 0;
    std::size_t count = 0;
    for (const LoadedCase& c : store_.cases()) {
        const std::string& probability = c.sha256[static_cast<int>(Role::probability)];
        if (c.volume(Role::probability) &&
            find_calibration_case(
                *imported_, probability,
                c.volume(Role::label) ? c.sha256[static_cast<int>(Role::label)] : std::string()))
            ++count;
    }
    return count;
}

double App::threshold() {
    if (imported_) return imported_->calibration.threshold;
    sync_calibration();
    const Result<Calibration>& r = session_.result();
    return r ? r->threshold : std::nan("");
}

void App::frame() {
    advance_loading();
    advance_inference();
    advance_validation();
    sync_calibration();
    persist_changes();
    overlays_.tau = threshold();

    const ImGuiViewport* viewport = ImGui::GetMainViewport();
    ImGui::SetNextWindowPos(viewport->WorkPos);
    ImGui::SetNextWindowSize(viewport->WorkSize);
    ImGui::Begin("CLS Studio", nullptr,
                 ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
                     ImGuiWindowFlags_NoBringToFrontOnFocus);
    ImGui::BeginChild("side", {kSidePanelWidth, 0}, true);
    draw_cases_panel();
    draw_model_panel();
    if (ImGui::BeginTabBar("tabs")) {
        if (ImGui::BeginTabItem("Calibrate")) {
            tab_ = "calibrate";
            draw_calibration_panel();
            draw_export_panel();
            if (ImGui::CollapsingHeader("Display", ImGuiTreeNodeFlags_DefaultOpen)) {
                viewer_.draw_controls(overlays_);
            }
            ImGui::EndTabItem();
        }
        const bool validate = ImGui::BeginTabItem("Validate");
        remember_rect("validate_tab");
        if (validate) {
            tab_ = "validate";
            draw_validate_tab();
            ImGui::EndTabItem();
        }
        const bool learn = ImGui::BeginTabItem("Learn");
        remember_rect("learn_tab");
        if (learn) {
            tab_ = "learn";
            draw_learn_tab();
            ImGui::EndTabItem();
        }
        ImGui::EndTabBar();
    }
    ImGui::EndChild();
    ImGui::SameLine();
    ImGui::BeginChild("views");
    viewer_.draw(platform_, overlays_);
    ImGui::EndChild();
    if (bool skipped = false; lesion_.draw(skipped)) resume_after_question(skipped);
    if (lesion_.question()) ui_rects_["lesion_use"] = lesion_.use_button_rect();
    ImGui::End();
}

void App::remember_rect(const char* name) {
    const ImVec2 min = ImGui::GetItemRectMin(), max = ImGui::GetItemRectMax();
    ui_rects_[name] = {min.x, min.y, max.x - min.x, max.y - min.y};
}

void App::draw_cases_panel() {
    if (!ImGui::CollapsingHeader("Cases", ImGuiTreeNodeFlags_DefaultOpen)) return;
    if (ImGui::Button("Open files...")) platform_.open_file_picker();
    remember_rect("open_files");
    ImGui::SameLine();
    if (ImGui::Button("Load demo")) platform_.load_demo(Platform::Demo::scans);
    remember_rect("load_demo");
    ImGui::SameLine();
    if (ImGui::Button("Probability demo")) platform_.load_demo(Platform::Demo::probabilities);
    remember_rect("load_probability_demo");
    ImGui::SameLine();
    if (ImGui::Button("Clear")) clear_cases();
    ImGui::TextDisabled("or drop .nii / .nii.gz / .onnx files or folders on the page");

    if (job_done_ < job_total_) {
        const float done =
            job_total_ ? static_cast<float>(job_done_) / static_cast<float>(job_total_) : 0.0f;
        char label[64];
        std::snprintf(label, sizeof label, "loading %zu/%zu", job_done_, job_total_);
        ImGui::ProgressBar(done, {-80, 0}, label);
        ImGui::SameLine();
        if (ImGui::Button("Cancel")) cancel_loading();
    }
    ImGui::Text("%zu cases, %zu with label and probability map", store_.cases().size(),
                store_.labelled_count());
    if (lesion_.chosen()) {
        const LesionDefinition& lesion = lesion_.definition();
        const std::string channels =
            lesion.channels.single() ? std::string("single-channel maps")
                                     : "channels " + channels_text(lesion.channels) + " (" +
                                           std::string(to_string(lesion.channels.combine)) + ")";
        ImGui::TextDisabled("lesion: %s, labels %s", channels.c_str(),
                            labels_text(lesion.labels).c_str());
        ImGui::SameLine();
        if (ImGui::SmallButton("Change (clears the cases)")) forget_lesion_choice();
    }
    if (ImGui::BeginListBox("##cases", {-1, 110})) {
        for (const LoadedCase& c : store_.cases()) {
            std::string line = c.name + "  ";
            for (Role role : kRoles)
                line += c.volume(role) ? (role == Role::image   ? "I"
                                          : role == Role::label ? "L"
                                                                : "P")
                                       : "-";
            if (ImGui::Selectable(line.c_str(), c.name == selected_)) select_case(c.name);
        }
        ImGui::EndListBox();
    }
    if (!errors_.empty()) {
        ImGui::PushStyleColor(ImGuiCol_Text, IM_COL32(255, 110, 110, 255));
        for (const std::string& e : errors_) ImGui::TextWrapped("%s", e.c_str());
        ImGui::PopStyleColor();
        if (ImGui::SmallButton("Dismiss errors")) errors_.clear();
    }
}

void App::draw_calibration_panel() {
    if (!ImGui::CollapsingHeader("Calibration", ImGuiTreeNodeFlags_DefaultOpen)) return;
    if (imported_) {
        ImGui::TextColored({1, 0.8f, 0.3f, 1}, "Using imported certificate %s",
                           imported_name_.c_str());
        ImGui::SameLine();
        if (ImGui::SmallButton("Drop it")) imported_.reset();
        if (const std::size_t seen = cases_calibrated_by_import(); seen > 0) {
            ImGui::TextColored({1, 0.7f, 0.3f, 1},
                               "%zu loaded case(s) are among its calibration cases (same "
                               "SHA-256): its guarantee is for new cases, not these.",
                               seen);
        }
        return;
    }
    float epsilon = static_cast<float>(settings_.epsilon),
          alpha = static_cast<float>(settings_.alpha);
    if (ImGui::SliderFloat("epsilon (FNR tolerance)", &epsilon, 0.0f, 0.95f, "%.3f")) {
        settings_.epsilon = std::round(epsilon * 1000.0) / 1000.0;  // decimals, as typed
    }
    remember_rect("epsilon");
    if (ImGui::SliderFloat("alpha (risk level)", &alpha, 0.01f, 0.95f, "%.3f")) {
        settings_.alpha = std::round(alpha * 1000.0) / 1000.0;
    }
    remember_rect("alpha");
    int method = static_cast<int>(settings_.method);
    if (ImGui::Combo("method", &method,
                     "CLS (conformal, per case)\0CRC (expected FNR)\0Fixed threshold\0")) {
        settings_.method = static_cast<Method>(method);
    }
    int policy = static_cast<int>(settings_.empty_masks);
    if (ImGui::Combo("empty masks", &policy, "satisfied (t_i = +inf)\0exclude\0")) {
        settings_.empty_masks = static_cast<EmptyMaskPolicy>(policy);
    }
    if (settings_.method == Method::fixed) {
        float t = static_cast<float>(settings_.fixed_threshold);
        if (ImGui::SliderFloat("threshold", &t, 0.0f, 1.0f, "%.3f")) settings_.fixed_threshold = t;
    }

    const Result<Calibration>& r = session_.result();
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
    }
    draw_calibration_plots();
    draw_case_table();
}

void App::draw_export_panel() {
    if (!ImGui::CollapsingHeader("Export and import")) return;
    const bool has_mask = std::isfinite(threshold()) || threshold() == kInfinity;
    ImGui::BeginDisabled(!has_mask || !viewer_.shown() ||
                         !viewer_.shown()->volume(Role::probability));
    if (ImGui::Button("Mask of this case (.nii.gz)")) export_mask();
    ImGui::EndDisabled();
    ImGui::BeginDisabled(!viewer_.shown() || !viewer_.shown()->volume(Role::probability));
    if (ImGui::Button("Probability map of this case (.nii)")) export_probability_map();
    ImGui::EndDisabled();
    ImGui::BeginDisabled(!session_.result().ok() || imported_.has_value());
    if (ImGui::Button("Calibration certificate (.json)")) export_certificate();
    ImGui::EndDisabled();
    ImGui::TextDisabled("Import a certificate: open or drop its .json file.");
    draw_kept_calibrations();
}

void App::export_mask() {
    const LoadedCase* c = viewer_.shown();
    if (!c || !c->volume(Role::probability)) return;
    const Volume& p = *c->volume(Role::probability);
    Volume mask(p.dims(), p.affine());
    const std::vector<std::uint8_t> predicted = predict_mask(p.values(), threshold());
    std::copy(predicted.begin(), predicted.end(), mask.values().begin());
    platform_.download(c->name + "_mask.nii.gz",
                       nifti::write(mask, {.datatype = nifti::DataType::uint8}),
                       /*gzip=*/true);
}

void App::export_certificate() {
    sync_calibration();
    const std::optional<Certificate> certificate =
        session_.certificate(store_, lesion_.definition());
    if (!certificate) return;
    const std::string json = to_json(*certificate);
    platform_.download("calibration_certificate.json", {json.begin(), json.end()}, /*gzip=*/false);
}

std::string App::state_json() {
    using nlohmann::json;
    json cases = json::array();
    for (const LoadedCase& c : store_.cases()) {
        json files = json::object();
        for (Role role : kRoles) {
            if (c.volume(role)) files[role_name(role)] = c.files[static_cast<int>(role)];
        }
        cases.push_back({{"name", c.name}, {"files", files}, {"labelled", c.labelled()}});
    }
    sync_calibration();
    const Result<Calibration>& r = session_.result();
    const double tau = threshold();
    json state = {
        {"cases", cases},
        {"loading",
         {{"pending", pending_.size()},
          {"done", job_done_},
          {"total", job_total_},
          {"cancels", cancels_}}},
        {"errors", errors_},
        {"settings",
         {{"method", to_string(settings_.method)},
          {"epsilon", settings_.epsilon},
          {"alpha", settings_.alpha},
          {"empty_masks", to_string(settings_.empty_masks)}}},
        {"tau", std::isfinite(tau) ? json(tau) : json(nullptr)},
        {"tau_is_infinite", tau == kInfinity},
        {"calibration_error", r ? json(nullptr) : json(r.error().message)},
        {"n", r ? json(r->n) : json(nullptr)},
        {"k", r ? json(r->k) : json(nullptr)},
        {"imported_certificate", imported_ ? json(imported_name_) : json(nullptr)},
        {"imported_certificate_calibration_cases", cases_calibrated_by_import()},
        {"selected", selected_},
        {"cursor", viewer_.cursor()},
        {"radiological", viewer_.radiological()},
        {"view_rects", viewer_.view_rects()},
        {"redraw_ms", viewer_.last_redraw_ms()},
        {"ui_rects", ui_rects_},
        {"validation", validation_json(validation_)},
        {"model", model_json()},
        {"kept_calibrations",
         [&] {
             json labels = json::array();
             for (const KeptCalibration& k : kept_) labels.push_back(k.label);
             return labels;
         }()},
        {"tab", tab_},
        {"lesion", lesion_json()},
    };
    // Replace, never throw, on file names that are not valid UTF-8.
    return state.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace cls::app
