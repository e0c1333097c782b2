// An ONNX model's main graph as the core reasons about it, read straight from the .onnx bytes
// (protobuf wire format, no protobuf library): nodes with their inputs, outputs and integer
// attributes, initializers with their shapes and where their data lies, the declared inputs and
// outputs. Every part keeps the span of its field in the file, so a rewrite can copy whatever
// it leaves alone byte for byte (onnx_rewrite.hpp). The spans point into the caller's bytes:
// an OnnxModel lives no longer than they do. read_onnx_model_info summarises this.
// [X] ModelProto → GraphProto → nodes, initializers, inputs, outputs, opset imports
// [X] attributes: ints, int, string; whether a node carries a subgraph
// [ ] subgraphs (If/Loop bodies) are not looked into; floats and tensor attributes not kept
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cls/inference/onnx_model_info.hpp"
#include "cls/result.hpp"

namespace cls::inference {

using ByteSpan = std::span<const std::uint8_t>;

struct OnnxAttribute {
    std::string name;
    std::optional<std::int64_t> i;   // an INT attribute
    std::vector<std::int64_t> ints;  // an INTS attribute
    std::string s;                   // a STRING attribute
    ByteSpan tensor;                 // a TENSOR attribute's TensorProto (Constant's value)
};

struct OnnxNode {
    std::string name;
    std::string op_type;
    std::string domain;  // "" is the default ONNX domain
    std::vector<std::string> inputs;
    std::vector<std::string> outputs;
    std::vector<OnnxAttribute> attributes;
    bool has_subgraph = false;  // an If/Loop/Scan body, which may use outer names
    ByteSpan field;             // the NodeProto field as encoded in the graph

    [[nodiscard]] const OnnxAttribute* attribute(const std::string& attribute_name) const;
    [[nodiscard]] bool in_default_domain() const { return domain.empty() || domain == "ai.onnx"; }
};

// ONNX TensorProto.DataType values the core names.
namespace onnx_type {
inline constexpr int float32 = 1, int32 = 6, int64 = 7, float16 = 10, float64 = 11, bfloat16 = 16;
}

inline constexpr std::size_t kMaxInt64Data = 4096;

struct OnnxInitializer {
    std::string name;
    int data_type = 0;
    std::vector<std::int64_t> dims;
    ByteSpan raw_data;            // raw_data: little-endian elements
    std::vector<ByteSpan> typed;  // float_data / double_data fields, in order (little-endian)
    std::vector<std::int64_t> int64_data;  // int64_data, up to kMaxInt64Data values
    bool int64_data_cut = false;           // more int64_data than that (weights, not shapes)
    bool external = false;                 // the data lives in another file
    ByteSpan field;                        // the TensorProto field as encoded in the graph

    // Elements by the dims (1 for a scalar); nullopt when a dimension is negative or the
    // product overflows.
    [[nodiscard]] std::optional<std::uint64_t> element_count() const;
};

struct OnnxGraph {
    std::vector<OnnxNode> nodes;
    std::vector<OnnxInitializer> initializers;
    std::vector<TensorInfo> declared_inputs;  // as listed, initializers included if listed
    std::vector<TensorInfo> outputs;
    std::vector<std::string> value_info_names;  // intermediate values the file annotates

    [[nodiscard]] const OnnxInitializer* initializer(const std::string& name) const;
};

struct OnnxModel {
    std::int64_t ir_version = 0;
    std::int64_t opset = 0;  // of the default domain
    OnnxGraph graph;
};

// Reads the model; an error says what part of the file is malformed.
[[nodiscard]] Result<OnnxModel> read_onnx_model(ByteSpan bytes);
// Reads one TensorProto (an initializer, or a Constant's value).
[[nodiscard]] Result<OnnxInitializer> read_onnx_tensor(ByteSpan tensor_proto);

// A small tensor's values as doubles (float32/64, int32/64 from raw_data, float_data or
// int64_data); nullopt for other types, external data, or more than `max_count` values.
[[nodiscard]] std::optional<std::vector<double>> small_tensor_values(const OnnxInitializer& tensor,
                                                                     std::size_t max_count = 64);

// Bytes per element of a fixed-size data type, 0 for others (strings, unknown types).
[[nodiscard]] std::size_t element_size(int data_type);

}  // namespace cls::inference
