// A hand-made protobuf encoder for tests: small ONNX models (and broken ones) without the
// onnx package, for the wasm test build and the app's tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cls::testing {

using Bytes = std::vector<std::uint8_t>;

inline void varint(Bytes& out, std::uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<std::uint8_t>(v | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<std::uint8_t>(v));
}
inline Bytes field(std::uint32_t number, const Bytes& payload) {
    Bytes out;
    varint(out, (number << 3) | 2);
    varint(out, payload.size());
    out.insert(out.end(), payload.begin(), payload.end());
    return out;
}
inline Bytes field(std::uint32_t number, const std::string& text) {
    return field(number, Bytes(text.begin(), text.end()));
}
inline Bytes field_varint(std::uint32_t number, std::uint64_t v) {
    Bytes out;
    varint(out, number << 3);
    varint(out, v);
    return out;
}
inline Bytes operator+(Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// ValueInfoProto{name, TypeProto{Tensor{elem_type 1, shape [1, 1, n, n, n]}}}.
inline Bytes value_info(const std::string& name, std::int64_t n) {
    Bytes shape;
    for (std::int64_t d : {std::int64_t{1}, std::int64_t{1}, n, n, n})
        shape = shape + field(1, field_varint(1, static_cast<std::uint64_t>(d)));
    const Bytes tensor = field_varint(1, 1) + field(2, shape);
    return field(1, name) + field(2, field(1, tensor));
}

// A one-node (Relu) model with float32 [1, 1, n, n, n] input and output; the graph goes last,
// so every proper prefix of the file lacks it or cuts it short.
inline Bytes tiny_onnx_model(const std::string& input, const std::string& output, std::int64_t n) {
    const Bytes node = field(1, input) + field(2, output) + field(4, std::string("Relu"));
    const Bytes graph =
        field(1, node) + field(11, value_info(input, n)) + field(12, value_info(output, n));
    return field_varint(1, 8) + field(8, field_varint(2, 17)) + field(7, graph);
}

}  // namespace cls::testing
