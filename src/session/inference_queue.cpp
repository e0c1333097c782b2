#include "inference_queue.hpp"

#include <algorithm>

#include "cls/inference/input_channels.hpp"

namespace cls::app {

Result<std::vector<const Volume*>> channel_images(const LoadedCase& c,
                                                  const inference::ModelManifest& manifest) {
    const Volume* image = c.volume(Role::image);
    if (image == nullptr) return make_error("case " + c.name + " has no image");
    // One image, one channel: as always, whatever its name says.
    if (manifest.input_channels == 1 && c.more_images.empty())
        return std::vector<const Volume*>{image};
    std::vector<const Volume*> channels(static_cast<std::size_t>(manifest.input_channels));
    auto place = [&](const std::string& file, const Volume& volume) -> Status {
        auto placed = inference::channel_of_file(file, manifest);
        if (!placed) return placed.error();
        channels[placed->channel] = &volume;
        return Done{};
    };
    if (Status placed = place(c.files[static_cast<int>(Role::image)], *image); !placed)
        return placed.error();
    for (const ChannelImage& more : c.more_images) {
        if (Status placed = place(more.file, more.volume); !placed) return placed.error();
    }
    for (std::size_t channel = 0; channel < channels.size(); ++channel) {
        if (channels[channel] == nullptr) {
            return make_error("case " + c.name + " has no " +
                              inference::channel_name(manifest, channel) + " image yet");
        }
    }
    return channels;
}

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

void InferenceQueue::drop(CaseId id) {
    if (id == current_id_) {
        if (in_flight_) discard_answer_ = true;
        finish_case();
    } else if (const auto it = std::find(waiting_.begin(), waiting_.end(), id);
               it != waiting_.end()) {
        waiting_.erase(it);
        --cases_total_;
    }
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
        auto channels = channel_images(*c, manifest);
        if (!channels) {
            errors_.push_back(channels.error().message);
            finish_case();
            continue;
        }
        const Volume& image = *channels->front();
        if (inference::window_memory_bytes(image, manifest) >
            static_cast<double>(memory_available)) {
            errors_.push_back(file +
                              ": running the model on it needs more memory than this tab "
                              "has left; remove cases, or run scripts/infer.mjs outside "
                              "the browser");
            finish_case();
            continue;
        }
        auto job = inference::SlidingWindowInference::start(*channels, manifest, settings);
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
