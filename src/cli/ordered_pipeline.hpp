// Work on many items on a few threads with results taken in a fixed order, so that what a
// command writes does not depend on the threads' timing: `ordered_pipeline(n, threads,
// produce, take)` makes the same calls to `take`, in the same order, with the same values, and
// stops at the same error as the loop
//     for (i = 0; i < n; ++i) { r = produce(i); if (!r) return r.error(); take(i, *r) or return; }
// while `produce` runs on up to `threads` std::jthreads at once. A thread starts an item only
// while fewer than 2 * threads results wait to be taken, so memory stays bounded however slow
// one item is. With one thread it is that loop, on the calling thread.
// [X] results taken in index order on the calling thread (progress, output, order-dependent
//     checks such as a memory budget live there); the first error in index order wins
// [X] after an error no item is started; items already running finish, their results dropped
// [ ] cancelling an item halfway (each is one case: short)
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "cls/result.hpp"

namespace cls::cli {

template <class T>
Status ordered_pipeline(std::size_t n, unsigned threads,
                        const std::function<Result<T>(std::size_t)>& produce,
                        const std::function<Status(std::size_t, T&)>& take) {
    if (threads <= 1 || n <= 1) {
        for (std::size_t i = 0; i < n; ++i) {
            Result<T> result = produce(i);
            if (!result) return result.error();
            if (Status taken = take(i, *result); !taken) return taken;
        }
        return Done{};
    }

    threads = static_cast<unsigned>(std::min<std::size_t>(threads, n));
    const std::size_t window = 2 * static_cast<std::size_t>(threads);
    std::mutex mutex;
    std::condition_variable produced;  // a result arrived
    std::condition_variable room;      // one was taken, or the run stops
    std::vector<std::optional<Result<T>>> results(n);
    std::size_t next = 0;   // the next index a thread starts
    std::size_t taken = 0;  // results taken so far
    bool stopping = false;

    const auto work = [&] {
        while (true) {
            std::size_t i = 0;
            {
                std::unique_lock lock(mutex);
                room.wait(lock, [&] { return stopping || next == n || next < taken + window; });
                if (stopping || next == n) return;
                i = next++;
            }
            Result<T> result = produce(i);
            {
                std::lock_guard lock(mutex);
                results[i].emplace(std::move(result));
            }
            produced.notify_all();
        }
    };
    // Declared after everything `work` uses, so the threads are joined before it goes; and
    // on every way out (an error, an exception from `take`) the threads are told to stop
    // first, so that none waits for room that will never come.
    std::vector<std::jthread> pool;
    struct StopOnExit {
        std::mutex& mutex;
        bool& stopping;
        std::condition_variable& room;
        ~StopOnExit() {
            {
                std::lock_guard lock(mutex);
                stopping = true;
            }
            room.notify_all();
        }
    };
    const StopOnExit stop_on_exit{mutex, stopping, room};
    pool.reserve(threads);
    for (unsigned t = 0; t < threads; ++t) pool.emplace_back(work);

    for (std::size_t i = 0; i < n; ++i) {
        std::optional<Result<T>> result;
        {
            std::unique_lock lock(mutex);
            produced.wait(lock, [&] { return results[i].has_value(); });
            result = std::move(results[i]);
            results[i].reset();
            taken = i + 1;
        }
        room.notify_all();
        if (!*result) return result->error();
        if (Status done = take(i, **result); !done) return done;
    }
    return Done{};
}

}  // namespace cls::cli
