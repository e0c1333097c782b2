#include "cls/npy.hpp"

#include <array>
#include <cctype>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <string_view>

namespace cls::npy {
namespace {

constexpr std::array<std::uint8_t, 6> kMagic{0x93, 'N', 'U', 'M', 'P', 'Y'};
// numpy refuses headers past this length unless told otherwise (format.py's
// _MAX_HEADER_SIZE); a real one is a few lines of text.
constexpr std::size_t kMaxHeaderBytes = 10000;
constexpr std::size_t kMaxDimensions = 32;  // numpy's NPY_MAXDIMS

enum class Kind { float_, uint };

struct DType {
    std::string_view descr;
    Kind kind;
    std::size_t bytes;
    bool big_endian;
};

// Every descr this parser reads; numpy writes '|' for one-byte types, '<' or '>' otherwise.
constexpr std::array<DType, 7> kDTypes{{
    {"<f2", Kind::float_, 2, false},
    {">f2", Kind::float_, 2, true},
    {"<f4", Kind::float_, 4, false},
    {">f4", Kind::float_, 4, true},
    {"<f8", Kind::float_, 8, false},
    {">f8", Kind::float_, 8, true},
    {"|u1", Kind::uint, 1, false},
}};

const DType* find_dtype(std::string_view descr) {
    for (const DType& type : kDTypes) {
        if (type.descr == descr) return &type;
    }
    return nullptr;
}

std::string printable(std::string_view text, std::size_t limit = 40) {
    std::string out;
    for (const char c : text.substr(0, limit)) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7f) {
            out += c;
        } else {
            static constexpr char kHex[] = "0123456789abcdef";
            out += "\\x";
            out += kHex[u >> 4];
            out += kHex[u & 15];
        }
    }
    if (text.size() > limit) out += "...";
    return out;
}

// A recursive-descent reader of the one dict literal numpy writes, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
class DictParser {
public:
    explicit DictParser(std::string_view text) : text_(text) {}

    Result<Header> parse() {
        Header header;
        bool seen_descr = false;
        bool seen_order = false;
        bool seen_shape = false;
        skip_spaces();
        if (!eat('{')) return found("a header dict starting with '{'");
        while (true) {
            skip_spaces();
            if (eat('}')) break;
            auto key = string_literal();
            if (!key) return key.error();
            skip_spaces();
            if (!eat(':')) return found("':' after the key '" + *key + "'");
            skip_spaces();
            if (*key == "descr") {
                if (seen_descr) return duplicate(*key);
                seen_descr = true;
                auto descr = string_literal();
                if (!descr) return descr.error();
                header.descr = *descr;
            } else if (*key == "fortran_order") {
                if (seen_order) return duplicate(*key);
                seen_order = true;
                if (eat_word("True")) {
                    header.fortran_order = true;
                } else if (eat_word("False")) {
                    header.fortran_order = false;
                } else {
                    return found("True or False for 'fortran_order'");
                }
            } else if (*key == "shape") {
                if (seen_shape) return duplicate(*key);
                seen_shape = true;
                auto shape = tuple_of_integers();
                if (!shape) return shape.error();
                header.shape = std::move(*shape);
            } else {
                return make_error("header has an unexpected key '" + printable(*key) +
                                  "' (a .npy header holds only 'descr', 'fortran_order' and "
                                  "'shape')");
            }
            skip_spaces();
            if (eat(',')) continue;
            skip_spaces();
            if (eat('}')) break;
            return found("',' or '}' after the value of '" + *key + "'");
        }
        // numpy pads the header with spaces and ends it with a newline.
        while (pos_ < text_.size() && text_[pos_] == ' ') ++pos_;
        if (pos_ + 1 != text_.size() || text_[pos_] != '\n') {
            return found("only spaces and a final newline after the header dict");
        }
        std::string missing;
        if (!seen_descr) missing += " 'descr'";
        if (!seen_order) missing += " 'fortran_order'";
        if (!seen_shape) missing += " 'shape'";
        if (!missing.empty()) return make_error("header dict lacks the key(s)" + missing);
        return header;
    }

private:
    Error found(const std::string& expected) const {
        const std::string_view rest = text_.substr(pos_);
        return make_error(
            "malformed .npy header: expected " + expected + " at character " +
            std::to_string(pos_) + ", found " +
            (rest.empty() ? std::string("the end of the header") : "\"" + printable(rest) + "\""));
    }
    static Error duplicate(const std::string& key) {
        return make_error("header dict has the key '" + key + "' twice");
    }

    void skip_spaces() {
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
    }
    bool eat(char c) {
        if (pos_ < text_.size() && text_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }
    bool eat_word(std::string_view word) {
        if (text_.substr(pos_, word.size()) != word) return false;
        const std::size_t end = pos_ + word.size();
        if (end < text_.size() &&
            (std::isalnum(static_cast<unsigned char>(text_[end])) != 0 || text_[end] == '_')) {
            return false;
        }
        pos_ = end;
        return true;
    }

    // A Python string literal in single or double quotes, without escapes: numpy's keys and
    // descrs never need them.
    Result<std::string> string_literal() {
        if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) {
            return found("a quoted string");
        }
        const char quote = text_[pos_];
        const std::size_t end = text_.find(quote, pos_ + 1);
        if (end == std::string_view::npos) return found("a closed string");
        const std::string_view inside = text_.substr(pos_ + 1, end - pos_ - 1);
        if (inside.find('\\') != std::string_view::npos ||
            inside.find('\n') != std::string_view::npos) {
            return found("a plain string (no escapes or newlines)");
        }
        pos_ = end + 1;
        return std::string(inside);
    }

    // "()", "(5,)", "(2, 3)" or "(2, 3,)": non-negative decimal integers.
    Result<std::vector<std::int64_t>> tuple_of_integers() {
        if (!eat('(')) return found("a tuple such as (2, 3) for 'shape'");
        std::vector<std::int64_t> values;
        bool trailing_comma = false;
        while (true) {
            skip_spaces();
            if (eat(')')) break;
            if (pos_ >= text_.size() ||
                std::isdigit(static_cast<unsigned char>(text_[pos_])) == 0) {
                return found("a non-negative integer or ')' in 'shape'");
            }
            std::int64_t value = 0;
            while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
                const int digit = text_[pos_] - '0';
                if (value > (std::numeric_limits<std::int64_t>::max() - digit) / 10) {
                    return make_error("header 'shape' has a dimension too large to hold");
                }
                value = value * 10 + digit;
                ++pos_;
            }
            if (values.size() == kMaxDimensions) {
                return make_error("header 'shape' has more than " + std::to_string(kMaxDimensions) +
                                  " dimensions");
            }
            values.push_back(value);
            skip_spaces();
            trailing_comma = eat(',');
            if (trailing_comma) continue;
            skip_spaces();
            if (eat(')')) break;
            return found("',' or ')' in 'shape'");
        }
        // Python's one-element tuple needs its comma: "(5)" is the integer 5.
        if (values.size() == 1 && !trailing_comma) {
            return make_error("header 'shape' is (" + std::to_string(values[0]) +
                              ") without a comma, an integer and not a tuple");
        }
        return values;
    }

    std::string_view text_;
    std::size_t pos_ = 0;
};

// What std::bit_cast does; Emscripten 3.1.6's libc++ has no std::bit_cast.
template <class To, class From>
To bits_as(From from) {
    static_assert(sizeof(To) == sizeof(From));
    To to;
    std::memcpy(&to, &from, sizeof(To));
    return to;
}

std::uint64_t load_unsigned(const std::uint8_t* p, std::size_t bytes, bool big_endian) {
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < bytes; ++i) {
        const std::size_t shift = big_endian ? (bytes - 1 - i) : i;
        value |= std::uint64_t{p[i]} << (8 * shift);
    }
    return value;
}

// IEEE 754 binary16 to float32, subnormals, infinities and NaNs included.
float half_to_float(std::uint16_t h) {
    const std::uint32_t sign = std::uint32_t{h & 0x8000u} << 16;
    const std::uint32_t exponent = (h >> 10) & 0x1f;
    std::uint32_t mantissa = h & 0x3ffu;
    std::uint32_t bits = 0;
    if (exponent == 0x1f) {
        bits = sign | 0x7f800000u | (mantissa << 13);
    } else if (exponent != 0) {
        bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
    } else if (mantissa == 0) {
        bits = sign;
    } else {
        // Subnormal: normalise the mantissa into a float32 normal number.
        int e = -1;
        do {
            ++e;
            mantissa <<= 1;
        } while ((mantissa & 0x400u) == 0);
        bits =
            sign | (static_cast<std::uint32_t>(127 - 15 - e) << 23) | ((mantissa & 0x3ffu) << 13);
    }
    return bits_as<float>(bits);
}

float element(const std::uint8_t* p, const DType& type) {
    const std::uint64_t raw = load_unsigned(p, type.bytes, type.big_endian);
    if (type.kind == Kind::uint) return static_cast<float>(raw);
    switch (type.bytes) {
        case 2:
            return half_to_float(static_cast<std::uint16_t>(raw));
        case 4:
            return bits_as<float>(static_cast<std::uint32_t>(raw));
        default:
            return static_cast<float>(bits_as<double>(raw));
    }
}

}  // namespace

std::string shape_text(const std::vector<std::int64_t>& shape) {
    if (shape.empty()) return "scalar";
    std::string text;
    for (const std::int64_t d : shape) {
        if (!text.empty()) text += "x";
        text += std::to_string(d);
    }
    return text;
}

Result<Header> read_header(std::span<const std::uint8_t> bytes) {
    if (bytes.size() < kMagic.size() ||
        std::memcmp(bytes.data(), kMagic.data(), kMagic.size()) != 0) {
        return make_error("not a .npy array (it does not start with \\x93NUMPY)");
    }
    if (bytes.size() < 8) return make_error("truncated .npy file: it ends inside its version");
    const int major = bytes[6];
    const int minor = bytes[7];
    if (minor != 0 || major < 1 || major > 3) {
        return make_error(".npy format version " + std::to_string(major) + "." +
                          std::to_string(minor) + " is not supported (1.0, 2.0 and 3.0 are)");
    }
    // Version 1.0 stores the header length in 2 bytes, 2.0 and 3.0 in 4, little-endian.
    const std::size_t length_bytes = major == 1 ? 2 : 4;
    const std::size_t prefix = 8 + length_bytes;
    if (bytes.size() < prefix) {
        return make_error("truncated .npy file: it ends inside its header length");
    }
    const std::uint64_t header_length = load_unsigned(bytes.data() + 8, length_bytes, false);
    if (header_length > kMaxHeaderBytes) {
        return make_error(".npy header declares " + std::to_string(header_length) +
                          " bytes, more than the " + std::to_string(kMaxHeaderBytes) +
                          " a real one can need");
    }
    if (bytes.size() - prefix < header_length) {
        return make_error("truncated .npy file: its header declares " +
                          std::to_string(header_length) + " bytes but only " +
                          std::to_string(bytes.size() - prefix) + " follow");
    }
    const std::string_view text(reinterpret_cast<const char*>(bytes.data() + prefix),
                                static_cast<std::size_t>(header_length));
    // Versions 1.0 and 2.0 are Latin-1, 3.0 is UTF-8; a valid header is ASCII either way.
    for (const char c : text) {
        if (static_cast<unsigned char>(c) >= 0x80) {
            return make_error(
                ".npy header has non-ASCII text, which no valid descr, "
                "fortran_order or shape uses");
        }
    }
    auto header = DictParser(text).parse();
    if (!header) return header.error();
    header->major_version = major;
    header->minor_version = minor;
    header->data_offset = prefix + static_cast<std::size_t>(header_length);

    const DType* type = find_dtype(header->descr);
    if (type == nullptr) {
        return make_error("array dtype '" + printable(header->descr) +
                          "' is not supported (float16, float32, float64 in either byte "
                          "order, or uint8: '<f2', '<f4', '<f8', '>f4', '|u1', ...)");
    }
    header->item_bytes = type->bytes;

    std::size_t count = 1;
    for (const std::int64_t d : header->shape) {
        const auto n = static_cast<std::uint64_t>(d);
        if (n != 0 && count > std::numeric_limits<std::size_t>::max() / n) {
            return make_error("array shape " + shape_text(header->shape) +
                              " has more elements than can be counted");
        }
        count *= static_cast<std::size_t>(n);
    }
    if (count > std::numeric_limits<std::size_t>::max() / type->bytes) {
        return make_error("array shape " + shape_text(header->shape) +
                          " needs more bytes than can be counted");
    }
    header->data_bytes = count * type->bytes;
    return header;
}

Result<Array> read(std::span<const std::uint8_t> bytes) {
    auto header = read_header(bytes);
    if (!header) return header.error();
    const std::size_t available = bytes.size() - header->data_offset;
    if (available != header->data_bytes) {
        return make_error(std::string(available < header->data_bytes ? "truncated .npy file: "
                                                                     : ".npy file too long: ") +
                          "a " + shape_text(header->shape) + " '" + header->descr +
                          "' array needs " + std::to_string(header->data_bytes) +
                          " bytes of data but " + std::to_string(available) + " follow the header");
    }
    const DType& type = *find_dtype(header->descr);
    const std::size_t count = header->data_bytes / type.bytes;
    const std::uint8_t* data = bytes.data() + header->data_offset;

    Array array;
    array.shape = header->shape;
    array.values.resize(count);
    if (!header->fortran_order || array.shape.size() < 2) {
        for (std::size_t i = 0; i < count; ++i)
            array.values[i] = element(data + i * type.bytes, type);
        return array;
    }
    // Fortran order: the first index varies fastest in the file. Walk the output in C order
    // and keep the matching Fortran offset with an odometer over the indices.
    const std::size_t rank = array.shape.size();
    std::vector<std::size_t> fortran_stride(rank);
    std::size_t stride = 1;
    for (std::size_t axis = 0; axis < rank; ++axis) {
        fortran_stride[axis] = stride;
        stride *= static_cast<std::size_t>(array.shape[axis]);
    }
    std::vector<std::int64_t> index(rank, 0);
    std::size_t source = 0;
    for (std::size_t i = 0; i < count; ++i) {
        array.values[i] = element(data + source * type.bytes, type);
        for (std::size_t axis = rank; axis-- > 0;) {
            if (++index[axis] < array.shape[axis]) {
                source += fortran_stride[axis];
                break;
            }
            index[axis] = 0;
            source -= fortran_stride[axis] * static_cast<std::size_t>(array.shape[axis] - 1);
        }
    }
    return array;
}

}  // namespace cls::npy
