// The compact, exact form in which a case score stores an ascending multiset of probabilities
// (docs/case_score.md, encoding "sorted-float32-delta-varint"). Validated probabilities are
// finite, in [0, 1] and never -0, so their IEEE-754 bit patterns order like the values: each
// run of equal values is stored as the gap to the previous distinct value's bits, minus one
// (0 is the next float up), shifted left once with the low bit set when the value repeats,
// as an unsigned LEB128 number, followed, for a repeated value, by its count minus 2 in
// LEB128. Continuous maps cost 2 to 3 bytes a value against 4 raw; quantised maps (uint8,
// float16) a few bytes per distinct value. Every byte string decodes to at most one multiset
// and every multiset has exactly one encoding (no over-long numbers), so the form is canonical.
// Private to the core.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "cls/result.hpp"

namespace cls::detail {

class SortedFloatEncoder {
public:
    explicit SortedFloatEncoder(std::vector<std::uint8_t>& out) : out_(out) {}
    // Adds `count` (>= 1) copies of `value`, which must be >= every value added before, in
    // [0, 1] and not -0 (asserted). Equal values added one at a time become one run.
    void add(float value, std::size_t count = 1);
    // Writes the last run; the encoder must not be used afterwards.
    void finish();

private:
    void flush();

    std::vector<std::uint8_t>& out_;
    std::uint32_t run_bits_ = 0;
    std::size_t run_count_ = 0;
    std::uint32_t last_bits_ = 0;  // of the last value written
    bool wrote_any_ = false;
};

[[nodiscard]] std::vector<std::uint8_t> encode_sorted_floats(std::span<const float> sorted);

// Decodes exactly `count` values from all of `bytes`. Errors (no input named): a number cut off
// or over-long, a value above 1, more or fewer values than `count`, bytes left over.
[[nodiscard]] Result<std::vector<float>> decode_sorted_floats(std::span<const std::uint8_t> bytes,
                                                              std::size_t count);

}  // namespace cls::detail
