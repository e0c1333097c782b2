// Sorting of validated probabilities (finite, in [0, 1], no negative zero), the step that
// dominates calibration after the pass over the voxels. For such floats the IEEE-754 bit
// patterns order like the values, so an LSD radix sort on the bits (three 11-bit digits)
// sorts in O(n) with no comparisons. Private to the core.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

namespace cls::detail {

inline void sort_probabilities(std::vector<float>& values) {
    constexpr std::size_t kRadixWorthIt = 4096;  // below this std::sort is as fast
    if (values.size() < kRadixWorthIt) {
        std::sort(values.begin(), values.end());
        return;
    }
    constexpr int kDigitBits = 11;
    constexpr std::uint32_t kDigitMask = (1u << kDigitBits) - 1;
    std::vector<std::uint32_t> keys(values.size()), scratch(values.size());
    std::memcpy(keys.data(), values.data(), values.size() * sizeof(float));
    for (int shift = 0; shift < 32; shift += kDigitBits) {
        std::array<std::size_t, kDigitMask + 1> start{};
        for (std::uint32_t key : keys) ++start[(key >> shift) & kDigitMask];
        std::size_t offset = 0;
        for (std::size_t& s : start) offset += std::exchange(s, offset);
        for (std::uint32_t key : keys) scratch[start[(key >> shift) & kDigitMask]++] = key;
        keys.swap(scratch);
    }
    std::memcpy(values.data(), keys.data(), values.size() * sizeof(float));
}

}  // namespace cls::detail
