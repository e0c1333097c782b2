// The CLI's ordered pipeline: results are taken in index order and the first error in index
// order wins, whatever order the threads finish in. The finishing order is forced with
// latches, not sleeps, so the tests do not depend on the machine's speed.
#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <string>
#include <vector>

#include "ordered_pipeline.hpp"

namespace cls::cli {
namespace {

// Item 0 finishes only after item 1 has: a thread other than item 0's must have produced it.
TEST(OrderedPipeline, TakesResultsInIndexOrderWhateverOrderTheyFinishIn) {
    std::latch second_done(1);
    std::vector<std::size_t> taken;
    const Status status = ordered_pipeline<std::size_t>(
        6, 2,
        [&](std::size_t i) -> Result<std::size_t> {
            if (i == 0) second_done.wait();
            if (i == 1) second_done.count_down();
            return i * 10;
        },
        [&](std::size_t i, std::size_t& value) -> Status {
            EXPECT_EQ(value, i * 10);
            taken.push_back(i);
            return Done{};
        });
    ASSERT_TRUE(status);
    EXPECT_EQ(taken, (std::vector<std::size_t>{0, 1, 2, 3, 4, 5}));
}

// Item 1 fails first, item 0 fails after it: the loop would report item 0's error.
TEST(OrderedPipeline, TheFirstErrorInIndexOrderWins) {
    std::latch second_failed(1);
    const Status status = ordered_pipeline<int>(
        8, 2,
        [&](std::size_t i) -> Result<int> {
            if (i == 0) {
                second_failed.wait();
                return make_error("item 0 failed");
            }
            if (i == 1) {
                second_failed.count_down();
                return make_error("item 1 failed");
            }
            return 0;
        },
        [](std::size_t, int&) -> Status { return Done{}; });
    ASSERT_FALSE(status);
    EXPECT_EQ(status.error().message, "item 0 failed");
}

// A refusal from `take` ends the run with its error, and items past the window never start.
TEST(OrderedPipeline, ARefusedResultStopsTheRun) {
    std::atomic<std::size_t> started = 0;
    std::vector<std::size_t> taken;
    const Status status = ordered_pipeline<std::size_t>(
        1000, 3,
        [&](std::size_t i) -> Result<std::size_t> {
            ++started;
            return i;
        },
        [&](std::size_t i, std::size_t&) -> Status {
            taken.push_back(i);
            if (i == 2) return make_error("budget exceeded at item 2");
            return Done{};
        });
    ASSERT_FALSE(status);
    EXPECT_EQ(status.error().message, "budget exceeded at item 2");
    EXPECT_EQ(taken, (std::vector<std::size_t>{0, 1, 2}));
    // Three taken, at most 2 * 3 waiting, and a thread may have started one more after that.
    EXPECT_LE(started.load(), 3u + 6u + 3u);
}

TEST(OrderedPipeline, OneThreadIsThePlainLoop) {
    std::vector<std::string> calls;
    const Status status = ordered_pipeline<int>(
        3, 1,
        [&](std::size_t i) -> Result<int> {
            calls.push_back("produce " + std::to_string(i));
            return static_cast<int>(i);
        },
        [&](std::size_t i, int&) -> Status {
            calls.push_back("take " + std::to_string(i));
            return Done{};
        });
    ASSERT_TRUE(status);
    EXPECT_EQ(calls, (std::vector<std::string>{"produce 0", "take 0", "produce 1", "take 1",
                                               "produce 2", "take 2"}));
}

}  // namespace
}  // namespace cls::cli
