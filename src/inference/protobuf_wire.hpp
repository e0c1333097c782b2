// A bounds-checked reader of protobuf's wire format, enough to walk an ONNX model's fields
// without a protobuf library or generated code. Every read checks the remaining bytes, so a
// truncated or hostile file yields an error, never a read past the end.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace cls::inference::wire {

enum class WireType : std::uint8_t { varint = 0, fixed64 = 1, length_delimited = 2, fixed32 = 5 };

struct Field {
    std::uint32_t number = 0;
    WireType type = WireType::varint;
    std::uint64_t varint = 0;               // for varint fields
    std::span<const std::uint8_t> bytes{};  // for length-delimited fields
};

class Reader {
public:
    explicit Reader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}

    [[nodiscard]] bool at_end() const { return position_ == bytes_.size(); }
    // The next field, or false at the end or on malformed input (then `failed()` is true).
    bool next(Field& field) {
        if (at_end() || failed_) return false;
        std::uint64_t key = 0;
        if (!read_varint(key)) return fail();
        const std::uint64_t number = key >> 3;
        if (number == 0 || number > 0x1fffffff) return fail();
        field.number = static_cast<std::uint32_t>(number);
        switch (key & 7) {
            case 0:
                field.type = WireType::varint;
                return read_varint(field.varint) || fail();
            case 1:
                field.type = WireType::fixed64;
                return skip(8) || fail();
            case 2: {
                field.type = WireType::length_delimited;
                std::uint64_t length = 0;
                if (!read_varint(length) || length > bytes_.size() - position_) return fail();
                field.bytes = bytes_.subspan(position_, static_cast<std::size_t>(length));
                position_ += static_cast<std::size_t>(length);
                return true;
            }
            case 5:
                field.type = WireType::fixed32;
                return skip(4) || fail();
            default:  // groups (3, 4) are deprecated and never used by ONNX
                return fail();
        }
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
    bool skip(std::size_t count) {
        if (count > bytes_.size() - position_) return false;
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

}  // namespace cls::inference::wire
