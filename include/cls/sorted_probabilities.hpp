// An ascending multiset of probabilities that answers "how many are below t" exactly, for any
// threshold t, in O(log n). Evaluation keeps one per case for its background voxels, whose
// counts FPR, Dice and compactness need at thresholds not known in advance.
// [X] plain sorted floats (4 bytes a voxel), the form continuous network outputs need
// [X] run-length form (12 bytes a distinct value), chosen when at most a third of the values
//     are distinct: maps stored as uint8 or float16 shrink to a few kilobytes a case
// [ ] lossy forms (a histogram would make every count approximate)
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace cls {

class SortedProbabilities {
public:
    SortedProbabilities() = default;
    // Takes values sorted ascending (the caller's promise, checked in debug builds).
    explicit SortedProbabilities(std::vector<float> sorted);

    [[nodiscard]] std::size_t size() const { return count_; }
    // #{p < threshold}: the voxels a mask {p >= threshold} leaves out.
    [[nodiscard]] std::size_t count_below(double threshold) const;
    [[nodiscard]] std::size_t count_at_least(double threshold) const {
        return count_ - count_below(threshold);
    }
    [[nodiscard]] bool run_length_coded() const { return !below_.empty(); }
    // Calls visit(value, count) for each distinct value, ascending, whichever form holds them
    // (a case score stores the multiset this way).
    template <class Visit>
    void for_each_run(Visit&& visit) const {
        for (std::size_t j = 0; j < values_.size();) {
            if (run_length_coded()) {
                const std::size_t next = j + 1 < below_.size() ? below_[j + 1] : count_;
                visit(values_[j], next - below_[j]);
                ++j;
                continue;
            }
            std::size_t end = j + 1;
            while (end < values_.size() && values_[end] == values_[j]) ++end;
            visit(values_[j], end - j);
            j = end;
        }
    }
    [[nodiscard]] std::size_t memory_bytes() const {
        return values_.capacity() * sizeof(float) + below_.capacity() * sizeof(std::uint64_t);
    }

private:
    // Every value, or (run-length coded) each distinct value once, with below_[j] the number
    // of values smaller than values_[j].
    std::vector<float> values_;
    std::vector<std::uint64_t> below_;
    std::size_t count_ = 0;
};

}  // namespace cls
