// The files waiting to be loaded and the progress of the current loading job: the page
// announces how many files it is about to read (so progress counts them from the start), hands
// them over one by one, and the session loads a few per step. A file that raises a question
// (which channels are lesion?) is parked until it is answered; cancelling drops what waits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace cls::app {

struct PendingFile {
    std::string path;
    std::vector<std::uint8_t> bytes;  // decompressed (a .npz: its probabilities.npy member)
    std::string sha256;               // of the file's bytes as stored
};

struct LoadingProgress {
    std::size_t pending = 0;    // handed over, not loaded yet
    std::size_t done = 0;       // of this job: loaded, refused or rejected at the file edge
    std::size_t total = 0;      // of this job, announced files included
    std::uint64_t cancels = 0;  // the page stops reading files when this changes
};

class LoadingQueue {
public:
    // `count` files are about to be handed over (or rejected at the file edge).
    void expect(std::size_t count);
    void push(PendingFile file);
    // An announced file the page could not hand over: counted as done.
    void reject();
    // A file handed over and refused at once (it would not fit in memory): counted as done.
    void refuse();
    // The next file to load; none while one is parked.
    [[nodiscard]] std::optional<PendingFile> pop();
    // A popped file is loaded (or refused).
    void finish_one() { ++done_; }
    // A popped file waits for an answer; `take_parked` gives it back.
    void park(PendingFile file) { parked_ = std::move(file); }
    [[nodiscard]] bool parked() const { return parked_.has_value(); }
    [[nodiscard]] std::optional<PendingFile> take_parked();
    // Drops what waits, the parked file included; the progress bar goes.
    void cancel();
    // Drops the waiting files `drop` selects, the parked one too; each counts as done. Returns
    // whether the parked file went (then its question has nothing left to answer for).
    template <class Select>
    bool drop_if(Select drop) {
        done_ += std::erase_if(pending_, drop);
        if (!parked_ || !drop(*parked_)) return false;
        parked_.reset();
        ++done_;
        return true;
    }

    // Whether every announced file has arrived and none waits: nothing more will come in this
    // job unless the page announces more.
    [[nodiscard]] bool drained() const { return pending_.empty() && !parked_ && announced_ == 0; }
    [[nodiscard]] LoadingProgress progress() const {
        return {pending_.size(), done_, total_, cancels_};
    }
    [[nodiscard]] bool in_progress() const { return done_ < total_; }

private:
    void start_job_if_idle();
    // One more file of the job has arrived (announced or not).
    void arrive();

    std::deque<PendingFile> pending_;
    std::optional<PendingFile> parked_;
    std::size_t total_ = 0;
    std::size_t done_ = 0;
    std::size_t announced_ = 0;  // announced files not handed over yet
    std::uint64_t cancels_ = 0;
};

}  // namespace cls::app
