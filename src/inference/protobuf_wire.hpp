// A bounds-checked reader of protobuf's wire format, enough to walk an ONNX model's fields
// without a protobuf library or generated code. Every read checks the remaining bytes, so a
// truncated or hostile file yields an error, never a read past the end. Each field also
// gives its whole encoding (`raw`), so a writer can copy what it leaves alone byte for byte;
// the append_* functions write fields in the same encoding protobuf's own writer uses.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cls::inference::wire {

enum class WireType : std::uint8_t { varint = 0, fixed64 = 1, length_delimited = 2, fixed32 = 5 };

struct Field {
    std::uint32_t number = 0;
    WireType type = WireType::varint;
    std::uint64_t varint = 0;               // for varint fields
    std::span<const std::uint8_t> bytes{};  // the payload of length-delimited and fixed fields
    std::span<const std::uint8_t> raw{};    // the whole field as encoded: key and payload
};

class Reader {
public:
    explicit Reader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}

    [[nodiscard]] bool at_end() const { return position_ == bytes_.size(); }
    // The next field, or false at the end or on malformed input (then `failed()` is true).
    bool next(Field& field) {
        if (at_end() || failed_) return false;
        const std::size_t start = position_;
        if (!read_field(field)) return fail();
        field.raw = bytes_.subspan(start, position_ - start);
        return true;
    }
    [[nodiscard]] bool failed() const { return failed_; }

    // A packed repeated varint field's values, one at a time.
    bool read_varint(std::uint64_t& value) {
        value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (position_ >= bytes_.size()) return false;
            const std::uint8_t byte = bytes_[position_++];
            value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
            if ((byte & 0x80) == 0) return true;
        }
        return false;  // more than 10 bytes: not a varint
    }

private:
    bool read_field(Field& field) {
        std::uint64_t key = 0;
        if (!read_varint(key)) return false;
        const std::uint64_t number = key >> 3;
        if (number == 0 || number > 0x1fffffff) return false;
        field.number = static_cast<std::uint32_t>(number);
        field.bytes = {};
        switch (key & 7) {
            case 0:
                field.type = WireType::varint;
                return read_varint(field.varint);
            case 1:
                field.type = WireType::fixed64;
                return take(8, field.bytes);
            case 2: {
                field.type = WireType::length_delimited;
                std::uint64_t length = 0;
                if (!read_varint(length) || length > bytes_.size() - position_) return false;
                return take(static_cast<std::size_t>(length), field.bytes);
            }
            case 5:
                field.type = WireType::fixed32;
                return take(4, field.bytes);
            default:  // groups (3, 4) are deprecated and never used by ONNX
                return false;
        }
    }
    bool take(std::size_t count, std::span<const std::uint8_t>& out) {
        if (count > bytes_.size() - position_) return false;
        out = bytes_.subspan(position_, count);
        position_ += count;
        return true;
    }
    bool fail() {
        failed_ = true;
        return false;
    }

    std::span<const std::uint8_t> bytes_;
    std::size_t position_ = 0;
    bool failed_ = false;
};

inline std::string_view as_text(std::span<const std::uint8_t> bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

using Bytes = std::vector<std::uint8_t>;

inline void append_varint(Bytes& out, std::uint64_t value) {
    while (value >= 0x80) {
        out.push_back(static_cast<std::uint8_t>(value | 0x80));
        value >>= 7;
    }
    out.push_back(static_cast<std::uint8_t>(value));
}
inline void append_key(Bytes& out, std::uint32_t number, WireType type) {
    append_varint(out, (static_cast<std::uint64_t>(number) << 3) | static_cast<std::uint8_t>(type));
}
inline void append_raw(Bytes& out, std::span<const std::uint8_t> bytes) {
    out.insert(out.end(), bytes.begin(), bytes.end());
}
inline void append_varint_field(Bytes& out, std::uint32_t number, std::uint64_t value) {
    append_key(out, number, WireType::varint);
    append_varint(out, value);
}
// Negative int64s go out as protobuf does: ten bytes of two's complement.
inline void append_int64_field(Bytes& out, std::uint32_t number, std::int64_t value) {
    append_varint_field(out, number, static_cast<std::uint64_t>(value));
}
inline void append_bytes_field(Bytes& out, std::uint32_t number,
                               std::span<const std::uint8_t> payload) {
    append_key(out, number, WireType::length_delimited);
    append_varint(out, payload.size());
    append_raw(out, payload);
}
inline void append_text_field(Bytes& out, std::uint32_t number, std::string_view text) {
    append_bytes_field(out, number,
                       {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
}

}  // namespace cls::inference::wire
