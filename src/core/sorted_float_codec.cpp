#include "sorted_float_codec.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <string>

namespace cls::detail {
namespace {

constexpr std::uint32_t kOneBits = 0x3F800000u;  // the bits of 1.0f

// What std::bit_cast does; Emscripten 3.1.6's libc++ has no std::bit_cast.
std::uint32_t bits_of(float value) {
    std::uint32_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    return bits;
}

float float_of(std::uint32_t bits) {
    float value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
}

void put_varint(std::vector<std::uint8_t>& out, std::uint64_t value) {
    while (value >= 0x80u) {
        out.push_back(static_cast<std::uint8_t>(value | 0x80u));
        value >>= 7;
    }
    out.push_back(static_cast<std::uint8_t>(value));
}

// An unsigned LEB128 number of at most 64 bits, in its shortest form.
class VarintReader {
public:
    explicit VarintReader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}

    [[nodiscard]] bool at_end() const { return position_ == bytes_.size(); }
    [[nodiscard]] std::size_t position() const { return position_; }

    Result<std::uint64_t> next() {
        std::uint64_t value = 0;
        for (int shift = 0;; shift += 7) {
            if (position_ == bytes_.size()) {
                return make_error("ends inside a number at byte " + std::to_string(position_));
            }
            const std::uint8_t byte = bytes_[position_++];
            const std::uint64_t bits = byte & 0x7Fu;
            if (shift == 63 && bits > 1) return too_long();
            value |= bits << shift;
            if ((byte & 0x80u) == 0) {
                // A last byte of 0 after others adds nothing: a second encoding of the value.
                if (byte == 0 && shift > 0) return too_long();
                return value;
            }
            if (shift == 63) return too_long();
        }
    }

private:
    Error too_long() const {
        return make_error("has an over-long or oversized number ending at byte " +
                          std::to_string(position_));
    }

    std::span<const std::uint8_t> bytes_;
    std::size_t position_ = 0;
};

}  // namespace

void SortedFloatEncoder::add(float value, std::size_t count) {
    const auto bits = bits_of(value);
    assert(count >= 1 && bits <= kOneBits);
    if (run_count_ > 0 && bits == run_bits_) {
        run_count_ += count;
        return;
    }
    assert(run_count_ == 0 || bits > run_bits_);
    flush();
    run_bits_ = bits;
    run_count_ = count;
}

void SortedFloatEncoder::flush() {
    if (run_count_ == 0) return;
    const std::uint64_t gap = wrote_any_ ? run_bits_ - last_bits_ - 1 : run_bits_;
    const bool repeats = run_count_ > 1;
    put_varint(out_, gap << 1 | static_cast<std::uint64_t>(repeats));
    if (repeats) put_varint(out_, run_count_ - 2);
    last_bits_ = run_bits_;
    wrote_any_ = true;
    run_count_ = 0;
}

void SortedFloatEncoder::finish() { flush(); }

std::vector<std::uint8_t> encode_sorted_floats(std::span<const float> sorted) {
    std::vector<std::uint8_t> out;
    SortedFloatEncoder encoder(out);
    for (float value : sorted) encoder.add(value);
    encoder.finish();
    return out;
}

Result<std::vector<float>> decode_sorted_floats(std::span<const std::uint8_t> bytes,
                                                std::size_t count) {
    // Every run takes at least one byte, so a count beyond what the bytes could hold is refused
    // before reserving memory for it only when no run repeats; the reservation is capped instead.
    std::vector<float> values;
    values.reserve(std::min(count, bytes.size() * 8));
    VarintReader reader(bytes);
    std::uint64_t bits = 0;
    bool first = true;
    while (!reader.at_end()) {
        auto token = reader.next();
        if (!token) return token.error();
        const std::uint64_t gap = *token >> 1;
        bits = first ? gap : bits + gap + 1;  // gap < 2^63 and bits <= kOneBits: no overflow
        first = false;
        if (bits > kOneBits) {
            return make_error("holds a value above 1 ending at byte " +
                              std::to_string(reader.position()));
        }
        std::uint64_t run = 1;
        if (*token & 1u) {
            auto extra = reader.next();
            if (!extra) return extra.error();
            if (*extra > count)
                return make_error("holds more values than its count " + std::to_string(count));
            run = *extra + 2;
        }
        if (run > count - values.size()) {
            return make_error("holds more values than its count " + std::to_string(count));
        }
        values.insert(values.end(), static_cast<std::size_t>(run),
                      float_of(static_cast<std::uint32_t>(bits)));
    }
    if (values.size() != count) {
        return make_error("holds " + std::to_string(values.size()) + " values but its count is " +
                          std::to_string(count));
    }
    return values;
}

}  // namespace cls::detail
