#include "session.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cls/case_pairing.hpp"
#include "cls/case_score.hpp"
#include "cls/nifti.hpp"
#include "cls/nnunet_probabilities.hpp"
#include "cls/npy.hpp"
#include "cls/sha256.hpp"

namespace cls::app {
namespace {

constexpr std::size_t kMaxMessagesShown = 50;
constexpr double kMemoryHeadroom = 64.0 * 1024 * 1024;  // slices, calibration, the next file
constexpr auto kValidationShare = std::chrono::milliseconds(8);
constexpr const char* kSettingsKey = "settings";
constexpr const char* kKeptKey = "kept_calibrations";

void push_bounded(std::vector<std::string>& list, std::string message) {
    list.push_back(std::move(message));
    if (list.size() > kMaxMessagesShown) list.erase(list.begin());
}

std::string megabytes(double bytes) {
    char text[32];
    std::snprintf(text, sizeof text, "%.0f MB", bytes / 1e6);
    return text;
}

}  // namespace

void Session::step(std::chrono::milliseconds budget) {
    const auto deadline = std::chrono::steady_clock::now() + budget;
    advance_loading(deadline);
    advance_inference();
    validation_.advance(kValidationShare);
    persist_changes();
}

// --- files -----------------------------------------------------------------------------------

void Session::expect_files(std::size_t count) { loading_.expect(count); }

void Session::enqueue_file(std::string path, std::vector<std::uint8_t> bytes, std::string sha256) {
    if (Status fits = check_memory_for(path, bytes); !fits) {
        loading_.refuse();
        return report_error(fits.error().message);
    }
    loading_.push({std::move(path), std::move(bytes), std::move(sha256)});
}

void Session::reject_file(std::string message) {
    report_error(std::move(message));
    loading_.reject();
}

Status Session::check_memory_for(const std::string& path,
                                 std::span<const std::uint8_t> bytes) const {
    if (!is_nifti_name(path)) return Done{};
    auto header = nifti::read_header(bytes);
    // A bad or truncated file: the full read says what is wrong with it, as the CLI does.
    if (!header || header->file_bytes() > static_cast<std::int64_t>(bytes.size())) return Done{};
    // Its first volume as float32, plus headroom for the slices and calibration.
    std::int64_t voxels = 1;
    for (std::size_t i = 0; i < std::min<std::size_t>(header->dims.size(), 3); ++i)
        voxels *= std::max<std::int64_t>(header->dims[i], 1);
    if (Status fits = fits_in_memory(4.0 * static_cast<double>(voxels), "its voxels"); !fits)
        return fits.error().in(path);
    return Done{};
}

Status Session::fits_in_memory(double bytes, const std::string& what) const {
    const double needed = bytes + kMemoryHeadroom;
    const double available = static_cast<double>(host_.memory_available());
    if (needed <= available) return Done{};
    return make_error(what + " need " + megabytes(needed) + " but only " + megabytes(available) +
                      " are left in this tab (WebAssembly has 4 GB in all); remove cases, or "
                      "use the cls command line, which has no such limit");
}

void Session::cancel_loading() {
    if (loading_.parked()) lesion_.skip();
    loading_.cancel();
    npz_waiting_.clear();
    nnunet_plans_.stop_awaiting();
}

bool Session::loading_busy() const { return loading_.progress().pending > 0; }

std::vector<std::string> Session::set_aside_segmentations(std::vector<std::string> paths) {
    nnunet_plans_.announce(paths);
    ProbabilityFiles files = set_aside_nnunet_segmentations(std::move(paths));
    for (const std::string& path : files.set_aside) {
        push_bounded(notes_, path +
                                 ": set aside, nnU-Net's segmentation beside its .npz "
                                 "probabilities, which are read instead");
    }
    for (const std::string& path : files.maps) {
        if (!is_nnunet_prediction_record(path)) continue;
        push_bounded(notes_, path + ": set aside, nnU-Net's record of its prediction (not read)");
        files.set_aside.push_back(path);
    }
    return files.set_aside;
}

void Session::advance_loading(std::chrono::steady_clock::time_point deadline) {
    do {
        std::optional<PendingFile> file = loading_.pop();
        if (!file) break;
        load_one(*file);
        if (!loading_.parked()) loading_.finish_one();  // a parked file counts once read
    } while (std::chrono::steady_clock::now() < deadline);
    retry_npz_waiting_for_a_grid();
}

void Session::load_one(PendingFile& file) {
    if (is_nnunet_plans_name(file.path)) return load_nnunet_plans(file);
    if (file.path.ends_with(".json")) return load_json(file);
    if (file.path.ends_with(".onnx")) {
        if (Status added = model_.add_model(file.path, file.bytes, std::move(file.sha256)); !added)
            report_error(added.error().message);
        return;
    }
    if (is_npz_name(file.path)) return load_npz(file);
    if (is_case_score_name(file.path)) return load_score(file);
    load_nifti(file);
}

void Session::load_score(const PendingFile& file) {
    auto score = parse_case_score(file.bytes, ScoreParts::calibration);
    if (!score) return report_error(score.error().in(file.path).message);
    if (Status lesion = lesion_.adopt(score->lesion, file.path); !lesion)
        return report_error(lesion.error().message);
    if (score->region != store_.region()) {
        // The first score sets the region, as an imported certificate does; after that a score
        // of another region would silently leave the set.
        if (store_.has_scored_cases()) {
            return report_error(file.path + ": was made with region of interest '" +
                                std::string(to_string(score->region)) +
                                "', but the cases here are restricted to '" +
                                std::string(to_string(store_.region())) +
                                "'; score every case of a calibration set alike");
        }
        set_region(score->region);
        notes_.push_back("region of interest set to '" + std::string(to_string(score->region)) +
                         "', as " + file.path + " was scored with");
    }
    auto added = store_.add_scored({file.path, file.sha256, score->inputs, score->region,
                                    std::move(score->scores.lesion), std::move(score->profile)});
    if (!added) return report_error(added.error().message);
    // Not selected: a score has no volume to show, and the first case with one is selected.
}

void Session::load_nifti(PendingFile& file) {
    auto image = nifti::read(file.bytes);  // the first volume: enough to tell the role
    if (!image) return report_error(image.error().in(file.path).message);
    const Role role = guess_role(file.path, image->volume);
    if (role == Role::probability) {
        auto channels = probability_channel_count(image->header);
        if (!channels) return report_error(channels.error().in(file.path).message);
        if (lesion_.needs_channels(*channels)) {
            lesion_.ask({LesionChoice::Question::Kind::channels, file.path, *channels, {}});
            loading_.park(std::move(file));
            return;
        }
        auto map = read_probability_map(file.bytes, lesion_.definition().channels);
        if (!map) return report_error(map.error().in(file.path).message);
        image = std::move(map);
    } else if (role == Role::label) {
        if (auto classes = lesion_.label_classes_to_ask(image->volume.values())) {
            lesion_.ask({LesionChoice::Question::Kind::labels, file.path, 0, std::move(*classes)});
            loading_.park(std::move(file));
            return;
        }
        auto label = read_label(file.bytes, lesion_.definition().labels);
        if (!label) return report_error(label.error().in(file.path).message);
        image = std::move(label);
    }
    add_to_store(file.path, role, std::move(image->volume), std::move(file.sha256));
}

void Session::load_npz(PendingFile& file) {
    auto header = npy::read_header(file.bytes);
    if (!header) return report_error(header.error().in(file.path + " (probabilities.npy)").message);
    const std::int64_t classes = header->shape.empty() ? 0 : header->shape.front();
    if (lesion_.needs_channels(classes)) {
        lesion_.ask({LesionChoice::Question::Kind::channels, file.path, classes, {}});
        loading_.park(std::move(file));
        return;
    }
    const LoadedCase* c = store_.find(case_name_of(file.path));
    const Volume* grid =
        c ? (c->volume(Role::image) ? c->volume(Role::image) : c->volume(Role::label)) : nullptr;
    if (grid == nullptr || nnunet_plans_.awaits_plans(file.path)) {
        npz_waiting_.push_back(std::move(file));
        return;
    }
    auto array_grid = nnunet_plans_.grid_of(file.path);
    if (!array_grid) return report_error(array_grid.error().in(file.path).message);
    auto map =
        read_nnunet_probability_map(file.bytes, *grid, lesion_.definition().channels, *array_grid);
    if (!map) return report_error(map.error().in(file.path).message);
    add_to_store(file.path, Role::probability, std::move(*map), std::move(file.sha256));
}

void Session::load_nnunet_plans(const PendingFile& file) {
    if (Status read = nnunet_plans_.read(file.path, file.bytes); !read)
        report_error(read.error().message);
}

void Session::retry_npz_waiting_for_a_grid() {
    if (npz_waiting_.empty() || loading_.parked()) return;
    std::vector<PendingFile> waiting = std::exchange(npz_waiting_, {});
    for (PendingFile& file : waiting) load_npz(file);
    if (!loading_.drained()) return;
    const std::vector<std::string> never_read = nnunet_plans_.stop_awaiting();
    for (const PendingFile& file : npz_waiting_) {
        const std::string plans = nnunet_plans_path(file.path);
        if (std::find(never_read.begin(), never_read.end(), plans) != never_read.end()) {
            report_error(file.path + ": not read: the plans.json beside it (" + plans +
                         ") was in the drop but could not be read, and it says which grid the "
                         "array lies on");
            continue;
        }
        report_error(file.path +
                     ": nnU-Net's probabilities hold no grid or affine, and no image or label "
                     "of case '" +
                     case_name_of(file.path) +
                     "' was loaded to lend it one; load the case's image or label with it");
    }
    npz_waiting_.clear();
}

void Session::add_to_store(const std::string& path, Role role, Volume volume, std::string sha256) {
    auto added = store_.add(path, role, std::move(volume), std::move(sha256));
    if (!added) return report_error(added.error().message);
    if (selected_ == 0) selected_ = store_.find(*added)->id;
}

void Session::load_json(const PendingFile& file) {
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

void Session::resume_after_question(bool skipped) {
    std::optional<PendingFile> file = loading_.take_parked();
    if (!file) return;
    if (skipped) {
        report_error(file->path + ": not loaded (no answer to which of it is lesion)");
    } else {
        load_one(*file);
    }
    if (!loading_.parked()) loading_.finish_one();
}

// --- cases -----------------------------------------------------------------------------------

void Session::clear_cases() {
    cancel_loading();
    inference_.cancel();
    store_.clear();
    selected_ = 0;
}

Status Session::remove_case(std::string_view name) {
    const LoadedCase* c = store_.find(name);
    if (c == nullptr) return make_error("no case '" + std::string(name) + "' is loaded");
    const CaseId id = c->id;
    const auto of_case = [name](const PendingFile& file) {
        return case_name_of(file.path) == name;
    };
    if (loading_.drop_if(of_case)) lesion_.skip();
    std::erase_if(npz_waiting_, of_case);
    inference_.drop(id);
    store_.remove(id);
    if (selected_ == id) selected_ = 0;
    return Done{};
}

Status Session::select_case(std::string_view name) {
    const LoadedCase* c = store_.find(name);
    if (c == nullptr) return make_error("no case '" + std::string(name) + "' is loaded");
    selected_ = c->id;
    return Done{};
}

// --- what is lesion --------------------------------------------------------------------------

Status Session::set_lesion_channels(const LesionChannels& channels) {
    if (Status chosen = lesion_.choose_channels(channels); !chosen) return chosen;
    resume_after_question(false);
    return Done{};
}

Status Session::set_lesion_labels(const LesionLabels& labels) {
    if (Status chosen = lesion_.choose_labels(labels); !chosen) return chosen;
    resume_after_question(false);
    return Done{};
}

void Session::skip_lesion_question() {
    lesion_.skip();
    resume_after_question(true);
}

void Session::forget_lesion_choice() {
    clear_cases();
    lesion_.reset();
}

// --- calibration -----------------------------------------------------------------------------

Status Session::set_settings(const CalibrationSettings& settings) {
    if (Status valid = validate(settings); !valid) return valid;
    settings_.calibration = settings;
    return Done{};
}

CalibrationSession& Session::calibration_session() {
    calibration_.refresh(store_);
    calibration_.set_settings(settings_.calibration);
    return calibration_;
}

const Result<Calibration>& Session::calibration() { return calibration_session().result(); }

double Session::threshold() {
    if (imported_) return imported_->calibration.threshold;
    const Result<Calibration>& r = calibration();
    return r ? r->threshold : std::nan("");
}

std::optional<SetAsideOutcome> Session::set_aside_outcome(CaseId id) {
    const LoadedCase* c = store_.find(id);
    if (c == nullptr) return std::nullopt;
    return set_aside_outcomes_.outcome(store_, *c, threshold());
}

const Result<Calibration>& Session::calibration_without(CaseId id) {
    const CalibrationSettings& settings = calibration_session().settings();
    const bool same = held_out_ && held_out_->id == id &&
                      held_out_->generation == store_.generation() &&
                      held_out_->settings.epsilon == settings.epsilon &&
                      held_out_->settings.alpha == settings.alpha &&
                      held_out_->settings.empty_masks == settings.empty_masks;
    if (!same) {
        const LoadedCase* held = store_.find(id);
        std::vector<LesionScores> others;
        for (const LesionScores& c : calibration_.cases()) {
            if (held == nullptr || c.name != held->name) others.push_back(c);
        }
        held_out_.emplace(HeldOut{id, store_.generation(), settings, calibrate(others, settings)});
    }
    return held_out_->result;
}

Status Session::import_certificate(std::string_view json, const std::string& file_name) {
    auto certificate = parse_certificate(json);
    if (!certificate) return certificate.error().in(file_name);
    settings_.calibration = certificate->calibration.settings;
    // Its threshold holds for maps restricted as its calibration cases' were.
    set_region(certificate->region);
    imported_ = std::move(*certificate);
    imported_name_ = file_name;
    ++import_serial_;
    return Done{};
}

void Session::set_region(RegionOfInterest region) {
    store_.set_region(region);
    settings_.region = region;
}

Status Session::set_flag_below(double level) {
    if (Status valid = validate_flag_level(level); !valid) return valid;
    settings_.flag_below = level;
    return Done{};
}

std::optional<ExchangeabilityCheck> Session::exchangeability(CaseId id) {
    if (checks_.generation != store_.generation() || checks_.import_serial != import_serial_) {
        checks_ = {store_.generation(), import_serial_, {}};
        const std::vector<CaseProfile> calibration =
            imported_ ? imported_->profiles : store_.calibration_profiles();
        for (const LoadedCase& c : store_.cases()) {
            std::optional<ExchangeabilityCheck> check;
            // A calibration case is not new to the calibration it belongs to.
            const bool calibrating =
                imported_ ? find_calibration_case(*imported_,
                                                  c.sha256[static_cast<int>(Role::probability)])
                                .has_value()
                          : c.calibrates();
            if (c.profile && !calibrating && !calibration.empty()) {
                if (auto checked = check_exchangeability(calibration, *c.profile)) check = *checked;
            }
            checks_.by_case.emplace_back(c.id, check);
        }
    }
    for (const auto& [case_id, check] : checks_.by_case) {
        if (case_id == id) return check;
    }
    return std::nullopt;
}

std::size_t Session::cases_calibrated_by_import() const {
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

// --- outputs ---------------------------------------------------------------------------------

std::optional<Certificate> Session::certificate() {
    return calibration_session().certificate(store_, lesion_.definition());
}

std::optional<OutputFile> Session::certificate_file() {
    const std::optional<Certificate> c = certificate();
    if (!c) return std::nullopt;
    const std::string json = to_json(*c);
    return OutputFile{"calibration_certificate.json", {json.begin(), json.end()}, false};
}

std::optional<OutputFile> Session::mask_file(CaseId id) {
    const LoadedCase* c = store_.find(id);
    const double tau = threshold();
    if (c == nullptr || std::isnan(tau)) return std::nullopt;
    // The map as calibration read its cases': restricted to the region of interest.
    std::optional<Volume> scratch;
    const Volume* p = store_.calibration_map(*c, scratch);
    if (p == nullptr) return std::nullopt;
    Volume mask(p->dims(), p->affine());
    const std::vector<std::uint8_t> predicted = predict_mask(p->values(), tau);
    std::copy(predicted.begin(), predicted.end(), mask.values().begin());
    return OutputFile{c->name + "_mask.nii.gz",
                      nifti::write(mask, {.datatype = nifti::DataType::uint8}), true};
}

std::optional<OutputFile> Session::probability_file(CaseId id) const {
    const LoadedCase* c = store_.find(id);
    if (c == nullptr || !c->volume(Role::probability)) return std::nullopt;
    return OutputFile{c->name + "_prob.nii", nifti::write(*c->volume(Role::probability), {}),
                      false};
}

// --- kept calibrations and settings ----------------------------------------------------------

void Session::keep_calibration() {
    const std::optional<Certificate> c = certificate();
    if (!c) return;
    kept_.keep(*c);
    host_.save(kKeptKey, kept_.to_json());
}

Status Session::use_kept(std::size_t index) {
    if (index >= kept_.items().size())
        return make_error("no kept calibration " + std::to_string(index));
    const KeptCalibration& k = kept_.items()[index];
    return import_certificate(k.certificate_json, k.label);
}

void Session::forget_kept(std::size_t index) {
    kept_.forget(index);
    host_.save(kKeptKey, kept_.to_json());
}

void Session::restore(std::string_view key, std::string_view json) {
    if (key == kSettingsKey) {
        settings_ = read_user_settings(json, settings_);
        store_.set_region(settings_.region);
        saved_settings_ = to_json(settings_);
    } else if (key == kKeptKey) {
        kept_.restore(json);
    }
}

void Session::persist_changes() {
    std::string settings = to_json(settings_);
    if (settings == saved_settings_) return;
    host_.save(kSettingsKey, settings);
    saved_settings_ = std::move(settings);
}

// --- model and inference ---------------------------------------------------------------------

void Session::set_inference_options(const InferenceOptions& options) {
    const bool webgpu_changed = options.allow_webgpu != settings_.inference.allow_webgpu;
    settings_.inference = options;
    if (webgpu_changed && model_.manifest()) model_.request_session();
}

Status Session::use_manifest_draft() {
    if (Status valid = inference::validate(model_.draft()); !valid)
        return valid.error().in("manifest form");
    return model_.add_manifest(model_.draft(), "the manifest form");
}

void Session::run_model_now() {
    for (const LoadedCase& c : store_.cases())
        if (c.volume(Role::image) && !c.volume(Role::probability)) inference_.enqueue(c);
}

void Session::advance_inference() {
    if (model_.take_session_request()) {
        inference_.cancel();
        inference_.forget_attempts();
        const bool webgpu = settings_.inference.allow_webgpu && model_.audit().webgpu_ok();
        // The rewrite goes to the page only for a WebGPU session (wasm runs the file itself).
        host_.start_model_session(model_.file_name(), *model_.manifest(), webgpu,
                                  webgpu ? model_.webgpu_model() : std::span<const std::uint8_t>{});
    }
    for (std::string& e : inference_.take_errors()) report_error(std::move(e));
    if (!model_.ready()) return;
    if (settings_.inference.auto_run) {
        for (const LoadedCase& c : store_.cases()) {
            // A case of a multi-channel model waits until it has as many images as channels.
            if (c.volume(Role::image) && !c.volume(Role::probability) &&
                !inference_.attempted(c.id) && !waiting_for_channels(c, *model_.manifest())) {
                inference_.enqueue(c);
            }
        }
    }
    if (auto request = inference_.next_request(
            store_, *model_.manifest(), settings_.inference.window, host_.memory_available()))
        host_.run_network(request->input, request->shape);
    for (std::string& e : inference_.take_errors()) report_error(std::move(e));
}

void Session::network_output(std::span<const float> output) {
    if (auto finished = inference_.accept(output); finished && store_.find(finished->case_id)) {
        // Hashed as exported (an uncompressed .nii), so a certificate's hash matches that file.
        const std::vector<std::uint8_t> bytes = nifti::write(finished->probability, {});
        add_to_store("model/" + finished->case_name + "_prob.nii", Role::probability,
                     std::move(finished->probability), sha256_hex(bytes));
    }
    // The next patch goes out now, not at the next step: the network never waits on drawing.
    advance_inference();
}

void Session::model_session_started(std::string provider, std::string note) {
    model_.session_started(std::move(provider), std::move(note));
}

void Session::model_session_failed(std::string message) {
    model_.session_failed(std::move(message));
    report_error(model_.error());
}

void Session::model_provider_changed(std::string provider, std::string reason) {
    model_.provider_changed(std::move(provider), std::move(reason));
}

// --- validation and messages -----------------------------------------------------------------

void Session::start_validation(ValidationSettings settings) {
    settings.epsilon = settings_.calibration.epsilon;
    settings.alpha = settings_.calibration.alpha;
    settings.empty_masks = settings_.calibration.empty_masks;
    validation_.start(store_, settings);
}

void Session::report_error(std::string message) { push_bounded(errors_, std::move(message)); }

}  // namespace cls::app
