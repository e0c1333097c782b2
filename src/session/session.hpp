// Everything CLS Studio holds and does, without a UI: the cases and the files waiting to be
// loaded, what is lesion in them, the model and the inference it runs, the live calibration and
// an imported certificate, validation, kept calibrations and the user's settings. The app's
// panels read it and call its actions; the page's bridge calls the same actions; the tests
// drive it alone, natively and in WebAssembly.
//
// Nothing here blocks: `step(budget)` advances loading (a few files), inference (hands the
// host the next patch) and validation for about `budget`, and the frame loop calls it once a
// frame. Actions that can fail return a Status whose message names the input; what goes wrong
// in the background (a bad file, a failed model run) lands in `errors()` and nothing already
// loaded or computed is lost.
// [X] NIfTI images, labels and probability maps, by the core's rules (lesion channels and
//     classes asked once, grids checked); nnU-Net .npz maps with their case's image or label
//     as the grid; models with manifests; certificates
// [X] clearing cancels loading and inference; an answer still in flight is dropped
// [X] a region of interest (none, the image's non-zero voxels, region masks) applied to every
//     case's map for calibration, masks, exports and validation, recorded in the certificate
// [X] case scores (cls score) as calibration cases without volumes; labelled cases set aside
//     as new cases
// [X] every case that is not a calibration case checked for exchangeability against the
//     certificate in force (imported, else the live one's cases), flagged below a level
// [X] removing one case: its waiting files and its model run go with it
// [ ] several models at once
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "calibration_session.hpp"
#include "case_store.hpp"
#include "cls/certificate.hpp"
#include "inference_queue.hpp"
#include "kept_calibrations.hpp"
#include "lesion_choice.hpp"
#include "loading_queue.hpp"
#include "model_slot.hpp"
#include "nnunet_plans_book.hpp"
#include "session_host.hpp"
#include "set_aside_outcomes.hpp"
#include "settings_document.hpp"
#include "validation.hpp"

namespace cls::app {

// A file to hand the user (a download in the page).
struct OutputFile {
    std::string name;
    std::vector<std::uint8_t> bytes;
    bool gzip = false;  // compressed on the way out, by the file edge
};

class Session {
public:
    explicit Session(SessionHost& host) : host_(host) {
        model_.set_network_memory(host.network_memory());
    }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // Loading, inference, validation and persistence, for about `budget` (at least one file).
    void step(std::chrono::milliseconds budget);

    // --- files ------------------------------------------------------------------------------
    // `count` files are about to arrive, so progress counts them from the start.
    void expect_files(std::size_t count);
    // A file's bytes (decompressed; for .npz, its probabilities.npy member) and the SHA-256 of
    // the file as stored. A NIfTI whose voxels would not fit in the memory left is refused here,
    // before it is read, and reported in errors().
    void enqueue_file(std::string path, std::vector<std::uint8_t> bytes, std::string sha256);
    // A file the page could not hand over (e.g. a corrupt gzip stream): shown as an error and
    // counted as done.
    void reject_file(std::string message);
    // Drops the files not loaded yet; the page stops reading more.
    void cancel_loading();
    [[nodiscard]] LoadingProgress loading() const { return loading_.progress(); }
    // Whether `bytes` (and headroom for what follows) fit in the memory the host has left; the
    // message says "<what> need ... MB but only ... MB are left".
    [[nodiscard]] Status fits_in_memory(double bytes, const std::string& what) const;
    // True while files wait to be loaded (behind a question too; the file the question is about
    // is not counted, so a page waiting for loading to settle can answer it).
    [[nodiscard]] bool loading_busy() const;
    // Of `paths` (one drop, one folder), the nnU-Net segmentations that stand beside their
    // .npz probabilities and nnU-Net's records of its run (dataset.json,
    // predict_from_raw_data_args.json, <case>.pkl), none to be loaded; each is noted in
    // `notes()`. The
    // plans.json among them are awaited by the .npz beside them (NnunetPlansBook).
    std::vector<std::string> set_aside_segmentations(std::vector<std::string> paths);

    // --- cases ------------------------------------------------------------------------------
    [[nodiscard]] const CaseStore& cases() const { return store_; }
    // Removes every case and cancels loading and inference: nothing loaded earlier comes back.
    void clear_cases();
    // Removes one case: its volumes, its files still waiting to load (they would make it
    // again) and its run of the model. The other cases and the settings stay; calibration
    // goes on without it. An error names a case that is not loaded.
    Status remove_case(std::string_view name);
    // The case the user looks at (0: none); exports and the Learn tab use it.
    [[nodiscard]] CaseId selected() const { return selected_; }
    void select(CaseId id) { selected_ = id; }
    Status select_case(std::string_view name);
    // Sets a case aside as a new case (its label then only says how its mask did) or back into
    // calibration; by name, so it may come before the case's files.
    void set_aside_case(std::string_view name, bool aside) { store_.set_aside(name, aside); }

    // --- what is lesion ---------------------------------------------------------------------
    [[nodiscard]] const LesionChoice& lesion() const { return lesion_; }
    // The answers to lesion().question(): the file waiting for it is read, and loading goes on.
    Status set_lesion_channels(const LesionChannels& channels);
    Status set_lesion_labels(const LesionLabels& labels);
    // Drops the file waiting for an answer, and goes on loading.
    void skip_lesion_question();
    // Forgets the session's lesion choice, and so the cases read by it.
    void forget_lesion_choice();

    // --- calibration ------------------------------------------------------------------------
    [[nodiscard]] const CalibrationSettings& settings() const { return settings_.calibration; }
    Status set_settings(const CalibrationSettings& settings);
    // The live calibration on the labelled cases, or why there is none.
    [[nodiscard]] const Result<Calibration>& calibration();
    // Its cases and their FNR at the threshold, for the plots.
    [[nodiscard]] CalibrationSession& calibration_session();
    // The threshold masks use: the imported certificate's, else the live calibration's; NaN
    // when there is none.
    [[nodiscard]] double threshold();
    // The region of interest every case's map is restricted to (cls/region_of_interest.hpp).
    [[nodiscard]] RegionOfInterest region() const { return store_.region(); }
    void set_region(RegionOfInterest region);
    // The exchangeability check's level: a case with p <= it is flagged.
    [[nodiscard]] double flag_below() const { return settings_.flag_below; }
    Status set_flag_below(double level);
    // A case's conformal p-value against the calibration cases (cls/exchangeability.hpp): the
    // imported certificate's, else the live calibration's. None for a calibration case, a case
    // without a map, or when there is nothing to compare with. Cached until an input changes.
    [[nodiscard]] std::optional<ExchangeabilityCheck> exchangeability(CaseId id);
    [[nodiscard]] bool unlike_calibration(CaseId id) {
        const auto check = exchangeability(id);
        return check && flagged(*check, flag_below());
    }

    // How a case set aside as new does against its label at threshold() and at 0.5; none for
    // other cases.
    [[nodiscard]] std::optional<SetAsideOutcome> set_aside_outcome(CaseId id);

    // CLS on every labelled case but `id`, for the Learn tab; cached until an input changes.
    [[nodiscard]] const Result<Calibration>& calibration_without(CaseId id);

    Status import_certificate(std::string_view json, const std::string& file_name);
    [[nodiscard]] const std::optional<Certificate>& imported() const { return imported_; }
    [[nodiscard]] const std::string& imported_name() const { return imported_name_; }
    void drop_import() {
        imported_.reset();
        ++import_serial_;
    }
    // Loaded cases the imported certificate was calibrated on (same SHA-256s).
    [[nodiscard]] std::size_t cases_calibrated_by_import() const;

    // --- outputs ----------------------------------------------------------------------------
    // The certificate of the live calibration, as the CLI writes it.
    [[nodiscard]] std::optional<Certificate> certificate();
    [[nodiscard]] std::optional<OutputFile> certificate_file();
    // A case's mask at the threshold (.nii.gz, uint8) and its probability map as the .nii
    // certificates hash; none when it has no map (or, for the mask, there is no threshold).
    [[nodiscard]] std::optional<OutputFile> mask_file(CaseId id);
    [[nodiscard]] std::optional<OutputFile> probability_file(CaseId id) const;

    // --- kept calibrations and settings that survive a reload --------------------------------
    [[nodiscard]] const KeptCalibrations& kept() const { return kept_; }
    void keep_calibration();
    Status use_kept(std::size_t index);
    void forget_kept(std::size_t index);
    // What the host stored in an earlier session (see SessionHost::save).
    void restore(std::string_view key, std::string_view json);

    // --- model and inference ----------------------------------------------------------------
    [[nodiscard]] const ModelSlot& model() const { return model_; }
    [[nodiscard]] const InferenceQueue& inference() const { return inference_; }
    [[nodiscard]] const InferenceOptions& inference_options() const { return settings_.inference; }
    // Overlap and mirroring apply to cases run from then on; allowing WebGPU starts a new
    // session on the same model.
    void set_inference_options(const InferenceOptions& options);
    // The manifest form for a model that came without one: edit the draft, then use it.
    [[nodiscard]] inference::ModelManifest& manifest_draft() { return model_.draft(); }
    Status use_manifest_draft();
    // Queues every image without a probability map (when the options do not do it).
    void run_model_now();
    void cancel_inference() { inference_.cancel(); }
    // The host's answers (see SessionHost::start_model_session, run_network).
    void model_session_started(std::string provider, std::string note);
    void model_session_failed(std::string message);
    void model_provider_changed(std::string provider, std::string reason);
    void network_output(std::span<const float> output);
    void network_failed(const std::string& message) { inference_.run_failed(message); }

    // --- validation -------------------------------------------------------------------------
    [[nodiscard]] const ValidationJob& validation() const { return validation_; }
    // Runs at the current epsilon, alpha and policy on the labelled cases.
    void start_validation(ValidationSettings settings);
    void cancel_validation() { validation_.cancel(); }

    // --- what went wrong, and what to know --------------------------------------------------
    [[nodiscard]] const std::vector<std::string>& errors() const { return errors_; }
    [[nodiscard]] const std::vector<std::string>& notes() const { return notes_; }
    void dismiss_messages() {
        errors_.clear();
        notes_.clear();
    }
    void report_error(std::string message);

private:
    void advance_loading(std::chrono::steady_clock::time_point deadline);
    void load_one(PendingFile& file);
    // A NIfTI by the core's rules (lesion channels, label classes), or parked with a question.
    void load_nifti(PendingFile& file);
    // nnU-Net's probabilities: read on the grid of the case's image or label, or held until
    // one arrives (and until the plans.json of their folder is read, when the drop brings one).
    void load_npz(PendingFile& file);
    void load_nnunet_plans(const PendingFile& file);
    // A case score (cls score): a calibration case without volumes.
    void load_score(const PendingFile& file);
    void load_json(const PendingFile& file);
    // After the lesion question was answered or skipped: the parked file, then the queue.
    void resume_after_question(bool skipped);
    // .npz files whose case has an image or label (and whose plans are read) by now; once
    // nothing more can come, the rest are refused.
    void retry_npz_waiting_for_a_grid();
    void add_to_store(const std::string& path, Role role, Volume volume, std::string sha256);
    // Starts sessions, queues images without probability maps, hands the host the next patch.
    void advance_inference();
    void persist_changes();
    [[nodiscard]] Status check_memory_for(const std::string& path,
                                          std::span<const std::uint8_t> bytes) const;

    SessionHost& host_;
    CaseStore store_;
    CaseId selected_ = 0;
    LoadingQueue loading_;
    std::vector<PendingFile> npz_waiting_;  // for their case's image or label, or their plans
    NnunetPlansBook nnunet_plans_;
    LesionChoice lesion_;
    UserSettings settings_;
    std::string saved_settings_;  // as last handed to the host
    CalibrationSession calibration_;
    struct HeldOut {
        CaseId id;
        std::uint64_t generation;
        CalibrationSettings settings;
        Result<Calibration> result;
    };
    std::optional<HeldOut> held_out_;
    std::optional<Certificate> imported_;
    std::string imported_name_;
    std::uint64_t import_serial_ = 0;  // changes with every import or drop
    struct Checks {
        std::uint64_t generation = ~std::uint64_t{0};
        std::uint64_t import_serial = 0;
        std::vector<std::pair<CaseId, std::optional<ExchangeabilityCheck>>> by_case;
    };
    Checks checks_;
    SetAsideOutcomes set_aside_outcomes_;
    KeptCalibrations kept_;
    ModelSlot model_;
    InferenceQueue inference_;
    ValidationJob validation_;
    std::vector<std::string> errors_;  // newest last, shown until dismissed
    std::vector<std::string> notes_;
};

}  // namespace cls::app
