#include "inference_queue.hpp"

#include <algorithm>

namespace cls::app {
void InferenceQueue::enqueue(const LoadedCase& c) {
    if (c.id == current_id_ || std::find(waiting_.begin(), waiting_.end(), c.id) != waiting_.end())
        return;
    if (!busy()) cases_done_ = cases_total_ = 0;  // a new batch
    waiting_.push_back(c.id);
    ++cases_total_;
    if (!attempted(c.id)) attempted_.push_back(c.id);
}

void InferenceQueue::cancel() {
    waiting_.clear();
    job_.reset();
    current_id_ = 0;
    current_.clear();
    grid_note_.clear();
    cases_total_ = cases_done_;
    if (in_flight_) discard_answer_ = true;
}

bool InferenceQueue::attempted(CaseId id) const {
    return std::find(attempted_.begin(), attempted_.end(), id) != attempted_.end();
}

void InferenceQueue::finish_case() {
    job_.reset();
    current_id_ = 0;
    current_.clear();
    grid_note_.clear();
    ++cases_done_;
}

std::optional<InferenceQueue::Request> InferenceQueue::next_request(
    const CaseStore& store, const inference::ModelManifest& manifest,
    const inference::WindowSettings& settings, std::size_t memory_available) {
    if (in_flight_) return std::nullopt;
    while (!job_ && !waiting_.empty()) {
        current_id_ = waiting_.front();
        waiting_.pop_front();
        const LoadedCase* c = store.find(current_id_);
        if (c == nullptr || c->volume(Role::image) == nullptr) {  // cleared meanwhile
            finish_case();
            continue;
        }
        current_ = c->name;
        const std::string& file = c->files[static_cast<int>(Role::image)];
        const Volume& image = *c->volume(Role::image);
        if (inference::window_memory_bytes(image, manifest) >
            static_cast<double>(memory_available)) {
            errors_.push_back(file +
                              ": running the model on it needs more memory than this tab "
                              "has left; remove cases, or run scripts/infer.mjs outside "
                              "the browser");
            finish_case();
            continue;
        }
        auto job = inference::SlidingWindowInference::start(image, manifest, settings);
        if (!job) {
            errors_.push_back(job.error().in(file).message);
            finish_case();
            continue;
        }
        job_ = std::move(*job);
        grid_note_ = inference::describe_network_grid(image, manifest);
        patches_skipped_ += job_->skipped_patches();
    }
    if (!job_) return std::nullopt;
    in_flight_ = true;
    return Request{job_->next_input(), job_->input_shape()};
}

std::optional<InferenceQueue::Finished> InferenceQueue::accept(std::span<const float> output) {
    in_flight_ = false;
    if (std::exchange(discard_answer_, false) || !job_) return std::nullopt;
    ++patches_run_;
    if (Status accepted = job_->accept_output(output); !accepted) {
        run_failed(accepted.error().message);
        return std::nullopt;
    }
    if (!job_->finished()) return std::nullopt;
    Finished finished{current_id_, current_, job_->probability()};
    finish_case();
    return finished;
}

void InferenceQueue::run_failed(const std::string& message) {
    in_flight_ = false;
    if (std::exchange(discard_answer_, false) || !job_) return;
    errors_.push_back(current_ + ": the model failed: " + message);
    finish_case();
}

}  // namespace cls::app
