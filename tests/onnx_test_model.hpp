// A hand-made protobuf encoder for tests: small ONNX models (and broken ones) without the
// onnx package, for the wasm test build and the app's tests.
#pragma once

#include <cstdint>
#include <cstring>
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

inline Bytes field_fixed32(std::uint32_t number, float value) {
    Bytes out;
    varint(out, (number << 3) | 5);
    std::uint8_t bytes[4];
    std::memcpy(bytes, &value, 4);  // little-endian on every target the tests run on
    out.insert(out.end(), bytes, bytes + 4);
    return out;
}

// ValueInfoProto with float32 elements; a negative dimension is written as a named one.
inline Bytes tensor_value(const std::string& name, const std::vector<std::int64_t>& dims) {
    Bytes shape;
    for (std::size_t i = 0; i < dims.size(); ++i) {
        shape = shape + field(1, dims[i] >= 0 ? field_varint(1, static_cast<std::uint64_t>(dims[i]))
                                              : field(2, "d" + std::to_string(i)));
    }
    return field(1, name) + field(2, field(1, field_varint(1, 1) + field(2, shape)));
}

// A one-node (Relu) model with the given float32 input and output shapes (a model of several
// input channels, say); as tiny_onnx_model otherwise.
inline Bytes relu_model(const std::string& input, const std::vector<std::int64_t>& input_dims,
                        const std::string& output, const std::vector<std::int64_t>& output_dims) {
    const Bytes node = field(1, input) + field(2, output) + field(4, std::string("Relu"));
    const Bytes graph = field(1, node) + field(11, tensor_value(input, input_dims)) +
                        field(12, tensor_value(output, output_dims));
    return field_varint(1, 8) + field(8, field_varint(2, 17)) + field(7, graph);
}

// AttributeProto: INTS (type 7), INT (type 2), STRING (type 3).
inline Bytes attribute_ints(const std::string& name, const std::vector<std::int64_t>& values) {
    Bytes out = field(1, name);
    for (std::int64_t v : values) out = out + field_varint(8, static_cast<std::uint64_t>(v));
    return out + field_varint(20, 7);
}
inline Bytes attribute_int(const std::string& name, std::int64_t value) {
    return field(1, name) + field_varint(3, static_cast<std::uint64_t>(value)) +
           field_varint(20, 2);
}
inline Bytes attribute_text(const std::string& name, const std::string& value) {
    return field(1, name) + field(4, value) + field_varint(20, 3);
}

// NodeProto{input..., output..., name, op_type, attribute...}.
inline Bytes node(const std::string& op_type, const std::vector<std::string>& inputs,
                  const std::vector<std::string>& outputs,
                  const std::vector<Bytes>& attributes = {}, const std::string& name = "") {
    Bytes out;
    for (const std::string& i : inputs) out = out + field(1, i);
    for (const std::string& o : outputs) out = out + field(2, o);
    if (!name.empty()) out = out + field(3, name);
    out = out + field(4, op_type);
    for (const Bytes& a : attributes) out = out + field(5, a);
    return out;
}

// A float32 TensorProto with its values in raw_data (or in float_data, one fixed32 each).
inline Bytes float_tensor(const std::string& name, const std::vector<std::int64_t>& dims,
                          const std::vector<float>& values, bool as_float_data = false) {
    Bytes out;
    for (std::int64_t d : dims) out = out + field_varint(1, static_cast<std::uint64_t>(d));
    out = out + field_varint(2, 1) + field(8, name);
    if (as_float_data) {
        for (float v : values) out = out + field_fixed32(4, v);
    } else {
        Bytes raw(values.size() * 4);
        std::memcpy(raw.data(), values.data(), raw.size());
        out = out + field(9, raw);
    }
    return out;
}

// ModelProto{ir_version 8, opset_import {"" 17}, graph{nodes, initializers, inputs, outputs}}.
inline Bytes onnx_model(const std::vector<Bytes>& nodes, const std::vector<Bytes>& initializers,
                        const std::vector<Bytes>& inputs, const std::vector<Bytes>& outputs,
                        std::int64_t opset = 17) {
    Bytes graph;
    for (const Bytes& n : nodes) graph = graph + field(1, n);
    graph = graph + field(2, std::string("g"));
    for (const Bytes& t : initializers) graph = graph + field(5, t);
    for (const Bytes& i : inputs) graph = graph + field(11, i);
    for (const Bytes& o : outputs) graph = graph + field(12, o);
    return field_varint(1, 8) + field(2, std::string("test")) +
           field(8, field_varint(2, static_cast<std::uint64_t>(opset))) + field(7, graph);
}

}  // namespace cls::testing
