// CLS Studio's whole UI, one frame at a time: the cases panel (load, demo, errors), the model
// panel (manifest, provider, inference progress), the calibration panel (epsilon, alpha, method,
// empty-mask policy, the per-case table and the plots), export and import, and the slice viewer.
// `frame()` is called by the native loop or by emscripten_set_main_loop; it never blocks: loading
// advances as a job, a few files a frame, and inference one network run at a time, both with
// progress and cancel. Everything reaches the platform through `Platform`.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "calibration_session.hpp"
#include "case_store.hpp"
#include "inference_queue.hpp"
#include "lesion_choice.hpp"
#include "model_slot.hpp"
#include "platform.hpp"
#include "validation.hpp"
#include "viewer.hpp"

namespace cls::app {

class App {
public:
    explicit App(Platform& platform) : platform_(platform) {
        model_.set_network_memory(platform.network_memory());
    }

    void frame();
    // Loading work per frame (12 ms by default). Tests lift it so that what a frame loads does
    // not depend on how busy the machine is.
    void set_frame_budget(std::chrono::milliseconds budget) { frame_budget_ = budget; }

    // The bridge's entry points (wasm/bridge.cpp); none of them blocks or throws.
    // Announces `count` files the page is about to read, so progress counts them from the start.
    void expect_files(std::size_t count);
    // Queues a file's (already decompressed) bytes; `sha256` is of the bytes as stored.
    void enqueue_file(std::string path, std::vector<std::uint8_t> bytes, std::string sha256);
    // A file the page could not hand over (e.g. a corrupt gzip stream): shown like any other
    // error, and counted as done.
    void reject_file(std::string message);
    void report_error(std::string message);
    void set_settings(const CalibrationSettings& settings) { settings_ = settings; }
    [[nodiscard]] const CalibrationSettings& settings() const { return settings_; }
    Status import_certificate(std::string_view json, const std::string& file_name);
    void select_case(const std::string& name);
    // Drops the files not loaded yet; the page stops reading more.
    void cancel_loading();
    // Moves the crosshair (and so the three slices) to a voxel of the shown case.
    void set_cursor(const Voxel& voxel) { viewer_.set_cursor(voxel); }
    void clear_cases();
    // What is lesion in multi-channel maps and multi-class labels (the picker's answers, or the
    // bridge's): a file waiting for the answer is then read with it, and loading goes on.
    Status set_lesion_channels(const LesionChannels& channels);
    Status set_lesion_labels(const LesionLabels& labels);
    // Drops the file waiting for an answer, and goes on loading.
    void skip_lesion_question();
    // Forgets the session's lesion choice, and so the cases read by it.
    void forget_lesion_choice();
    [[nodiscard]] const LesionChoice& lesion_choice() const { return lesion_; }
    // A loaded case, as the store holds it (tests read its volumes through the bridge).
    [[nodiscard]] const LoadedCase* find_case(std::string_view name) const {
        return store_.find(name);
    }
    // Everything a test or the page needs to know, as JSON.
    [[nodiscard]] std::string state_json();

    // The threshold the masks use: the imported certificate's, else the live calibration's;
    // NaN when there is none yet.
    [[nodiscard]] double threshold();
    // Loaded cases an imported certificate was calibrated on (their SHA-256s are in it).
    [[nodiscard]] std::size_t cases_calibrated_by_import() const;
    void export_mask();
    void export_certificate();
    // The shown or named case's probability map as the uncompressed .nii it is exported as (its
    // SHA-256 is the one certificates record); empty if the case has none.
    [[nodiscard]] std::vector<std::uint8_t> probability_nifti(const std::string& name) const;
    void export_probability_map();

    // The page's answers about the model (see Platform::start_model_session, run_network).
    void model_session_started(std::string provider, std::string note);
    void model_session_failed(std::string message);
    void model_provider_changed(std::string provider, std::string reason);
    void network_output(std::span<const float> output);
    void network_failed(const std::string& message);
    void cancel_inference();
    // "auto" (WebGPU, then wasm) or "wasm"; takes effect with the next session.
    void set_execution_preference(bool allow_webgpu);

    // What the page stored in a past session (see Platform::save): settings, kept calibrations.
    void restore(std::string_view key, std::string_view json);
    // Keeps the current calibration's certificate in the browser; `use_kept` imports one.
    void keep_calibration();
    void use_kept(std::size_t index);
    void forget_kept(std::size_t index);

private:
    struct PendingFile {
        std::string path;
        std::vector<std::uint8_t> bytes;
        std::string sha256;
    };
    // Brings the calibration session up to date with the store and the settings.
    void sync_calibration();
    void advance_loading();
    void load_one(PendingFile& file);
    // Reads a NIfTI by the core's rules (lesion channels, label classes), or parks it in
    // `awaiting_` with a question for the user.
    void load_nifti(PendingFile& file);
    // After the lesion question was answered or skipped: the parked file, then the queue.
    void resume_after_question(bool skipped);
    void load_json(const PendingFile& file);
    // Refuses a volume whose voxels would not fit in the memory the platform has left.
    [[nodiscard]] Status check_memory_for(const PendingFile& file) const;
    // Starts sessions, queues images without probability maps, hands the page the next patch.
    void advance_inference();
    void draw_cases_panel();
    void draw_model_panel();
    void draw_kept_calibrations();
    // Hands the page whatever changed since it last stored it.
    void persist_changes();
    void save_kept();
    [[nodiscard]] std::string settings_json() const;
    [[nodiscard]] nlohmann::json model_json() const;
    [[nodiscard]] nlohmann::json lesion_json() const;
    void draw_manifest_form();
    void draw_calibration_panel();
    void draw_calibration_plots();
    void draw_case_table();
    void draw_export_panel();
    void advance_validation();
    void draw_validate_tab();
    void draw_learn_tab();
    // CLS calibrated without one case, for the Learn tab; recomputed only when an input changes.
    const Result<Calibration>& held_out_calibration(const std::string& name,
                                                    const CalibrationSettings& settings);
    void remember_rect(const char* name);

    Platform& platform_;
    CaseStore store_;
    CalibrationSession session_;
    CalibrationSettings settings_{.method = Method::cls, .epsilon = 0.1, .alpha = 0.1};
    Viewer viewer_;
    OverlaySettings overlays_;
    std::string selected_;

    std::deque<PendingFile> pending_;
    LesionChoice lesion_;
    std::optional<PendingFile> awaiting_;  // the file that raised lesion_'s open question
    std::size_t job_total_ = 0;            // files in the current loading job
    std::size_t job_done_ = 0;
    std::size_t job_announced_ = 0;  // announced files not queued yet
    std::uint64_t cancels_ = 0;      // the page stops reading files when this changes
    // Enough to move fast, little enough to keep the UI responsive.
    std::chrono::milliseconds frame_budget_{12};

    struct KeptCalibration {
        std::string label;
        std::string certificate_json;
    };
    std::vector<KeptCalibration> kept_;
    std::string saved_settings_;  // as last handed to the page

    ModelSlot model_;
    InferenceQueue inference_;
    inference::WindowSettings window_settings_;
    bool auto_run_ = true;      // run the model on every image that has no probability map
    bool allow_webgpu_ = true;  // else wasm only

    ValidationJob validation_;
    ValidationSettings validation_settings_;
    struct HeldOut {
        std::string name;
        std::uint64_t generation;
        CalibrationSettings settings;
        Result<Calibration> result;
    };
    std::optional<HeldOut> held_out_;

    std::vector<std::string> errors_;  // newest last, shown until dismissed
    std::optional<Certificate> imported_;
    std::string imported_name_;
    std::map<std::string, std::array<float, 4>> ui_rects_;  // named widgets, for tests
    std::string tab_;                                       // the side panel's open tab
};

}  // namespace cls::app
