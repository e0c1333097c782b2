#include "loading_queue.hpp"

namespace cls::app {

void LoadingQueue::start_job_if_idle() {
    if (done_ >= total_) total_ = done_ = announced_ = 0;
}

void LoadingQueue::expect(std::size_t count) {
    start_job_if_idle();
    total_ += count;
    announced_ += count;
}

void LoadingQueue::arrive() {
    start_job_if_idle();
    if (announced_ > 0) {
        --announced_;
    } else {
        ++total_;
    }
}

void LoadingQueue::push(PendingFile file) {
    arrive();
    pending_.push_back(std::move(file));
}

void LoadingQueue::refuse() {
    arrive();
    ++done_;
}

void LoadingQueue::reject() {
    if (announced_ == 0) return;  // not part of a job: nothing to count
    --announced_;
    ++done_;
}

std::optional<PendingFile> LoadingQueue::pop() {
    if (parked_ || pending_.empty()) return std::nullopt;
    PendingFile file = std::move(pending_.front());
    pending_.pop_front();
    return file;
}

std::optional<PendingFile> LoadingQueue::take_parked() {
    std::optional<PendingFile> file = std::move(parked_);
    parked_.reset();
    return file;
}

void LoadingQueue::cancel() {
    pending_.clear();
    parked_.reset();
    total_ = done_;
    announced_ = 0;
    ++cancels_;
}

}  // namespace cls::app
