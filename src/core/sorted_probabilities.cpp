#include "cls/sorted_probabilities.hpp"

#include <algorithm>
#include <cassert>

namespace cls {

SortedProbabilities::SortedProbabilities(std::vector<float> sorted) : count_(sorted.size()) {
    assert(std::is_sorted(sorted.begin(), sorted.end()));
    std::size_t distinct = 0;
    for (std::size_t i = 0; i < sorted.size(); ++i) {
        distinct += i == 0 || sorted[i] != sorted[i - 1];
    }
    // A distinct value costs 12 bytes run-length coded against 4 a value plain.
    if (3 * distinct > sorted.size()) {
        values_ = std::move(sorted);
        values_.shrink_to_fit();
        return;
    }
    values_.reserve(distinct);
    below_.reserve(distinct);
    for (std::size_t i = 0; i < sorted.size(); ++i) {
        if (i == 0 || sorted[i] != sorted[i - 1]) {
            values_.push_back(sorted[i]);
            below_.push_back(i);
        }
    }
}

std::size_t SortedProbabilities::count_below(double threshold) const {
    const auto first_kept = std::lower_bound(values_.begin(), values_.end(), threshold,
                                             [](float p, double t) { return p < t; }) -
                            values_.begin();
    const auto index = static_cast<std::size_t>(first_kept);
    if (!run_length_coded()) return index;
    return index == values_.size() ? count_ : below_[index];
}

}  // namespace cls
