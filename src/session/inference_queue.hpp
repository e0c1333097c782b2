// The cases waiting for the model and the one being run: one network run in flight at a time,
// so the frame loop hands the page a patch, goes on drawing, and blends the answer when it
// comes. Cancelling drops the waiting cases at once; an answer still in flight is discarded on
// arrival. A case that fails (bad image, a NaN from the model) is reported and skipped. Cases
// are held by CaseId: one cleared while it waits or runs is skipped, never re-created.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "case_store.hpp"
#include "cls/inference/sliding_window.hpp"

namespace cls::app {

// A case's images in the manifest's input channels, placed by the core's rule
// (cls/inference/input_channels.hpp); a single image for a single-channel model as it is.
// Refuses a case without one of the channels, or with an image the rule places in none,
// naming it.
[[nodiscard]] Result<std::vector<const Volume*>> channel_images(
    const LoadedCase& c, const inference::ModelManifest& manifest);

// Whether a case has fewer images than the model has input channels: the rest may still come.
[[nodiscard]] inline bool waiting_for_channels(const LoadedCase& c,
                                               const inference::ModelManifest& manifest) {
    return 1 + c.more_images.size() < static_cast<std::size_t>(manifest.input_channels);
}

class InferenceQueue {
public:
    void enqueue(const LoadedCase& c);
    void cancel();
    // Forgets one case: out of the queue, or its run stopped (an answer in flight is dropped).
    void drop(CaseId id);

    struct Request {
        std::span<const float> input;  // valid until the answer is accepted or the run fails
        std::array<std::int64_t, 5> shape;
    };
    // The next network input to send, starting the next case when needed; nothing while a run
    // is in flight or no case waits. A case that cannot start (a bad image, or more memory
    // than `memory_available` for its buffers) is recorded in errors.
    [[nodiscard]] std::optional<Request> next_request(const CaseStore& store,
                                                      const inference::ModelManifest& manifest,
                                                      const inference::WindowSettings& settings,
                                                      std::size_t memory_available = SIZE_MAX);

    struct Finished {
        CaseId case_id = 0;
        std::string case_name;
        Volume probability;
    };
    // The network's answer to the last request; a case's probability map once it is complete.
    [[nodiscard]] std::optional<Finished> accept(std::span<const float> output);
    void run_failed(const std::string& message);

    [[nodiscard]] bool busy() const { return job_.has_value() || !waiting_.empty(); }
    [[nodiscard]] bool in_flight() const { return in_flight_; }
    [[nodiscard]] const std::string& current_case() const { return current_; }
    // What the network's grid does to the current case ("resampled from ..."), or "".
    [[nodiscard]] const std::string& grid_note() const { return grid_note_; }
    [[nodiscard]] std::size_t runs_done() const { return job_ ? job_->runs_done() : 0; }
    [[nodiscard]] std::size_t run_count() const { return job_ ? job_->run_count() : 0; }
    [[nodiscard]] std::size_t cases_done() const { return cases_done_; }
    [[nodiscard]] std::size_t cases_total() const { return cases_total_; }
    [[nodiscard]] std::size_t patches_run() const { return patches_run_; }
    // Patches blended as background without a network run (the manifest's skip_background).
    [[nodiscard]] std::size_t patches_skipped() const { return patches_skipped_; }
    // Cases already run or failed with this model: not queued again automatically.
    [[nodiscard]] bool attempted(CaseId id) const;
    void forget_attempts() { attempted_.clear(); }
    [[nodiscard]] std::vector<std::string> take_errors() { return std::exchange(errors_, {}); }

private:
    void finish_case();

    std::deque<CaseId> waiting_;
    std::optional<inference::SlidingWindowInference> job_;
    CaseId current_id_ = 0;
    std::string current_;
    std::string grid_note_;
    bool in_flight_ = false;
    bool discard_answer_ = false;  // cancelled while a run was in flight
    std::size_t cases_done_ = 0;
    std::size_t cases_total_ = 0;
    std::size_t patches_run_ = 0;
    std::size_t patches_skipped_ = 0;
    std::vector<CaseId> attempted_;
    std::vector<std::string> errors_;
};

}  // namespace cls::app
