// What CLS Studio needs to know about an ONNX model before running it, summarised from the
// graph read_onnx_model reads (onnx_graph.hpp) off the .onnx bytes: the graph's real inputs and
// outputs with their element types and shapes, the opset, and each node's op type and kernel rank.
// That is enough to prefill a manifest from the input shape, to check a manifest against the
// model, and to audit ops that ONNX Runtime Web's WebGPU provider cannot run.
// [X] ModelProto → GraphProto → nodes, inputs (initializers excluded), outputs, opset imports
// [ ] Subgraphs (If/Loop bodies) and external-data tensors are not looked into
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "cls/result.hpp"

namespace cls::inference {

inline constexpr std::int64_t kDynamicDim = -1;  // a symbolic or unknown dimension

struct TensorInfo {
    std::string name;
    int element_type = 0;            // ONNX TensorProto.DataType: 1 = float32
    std::vector<std::int64_t> dims;  // kDynamicDim where the model leaves a dimension open
};

struct NodeInfo {
    std::string op_type;
    std::string domain;           // "" is the default ONNX domain
    std::size_t kernel_rank = 0;  // spatial rank from kernel_shape or the weights; 0 if unknown
};

struct OnnxModelInfo {
    std::int64_t ir_version = 0;
    std::int64_t opset = 0;  // of the default domain
    std::vector<TensorInfo> inputs;
    std::vector<TensorInfo> outputs;
    std::vector<NodeInfo> nodes;
};

// Reads the model's interface and ops; an error says what part of the file is malformed.
[[nodiscard]] Result<OnnxModelInfo> read_onnx_model_info(std::span<const std::uint8_t> bytes);

// The model's ops against what ONNX Runtime Web's WebGPU provider is known to fail on
// (measured with 1.30): 3D ConvTranspose fails in every build, so such a model runs on wasm;
// 3D pooling fails in the default NHWC layout, so the app asks for NCHW and notes it.
struct WebGpuAudit {
    std::vector<std::string> blocking;  // reasons to run on wasm instead
    std::vector<std::string> notes;     // worth telling the user, not a reason to avoid WebGPU
    [[nodiscard]] bool webgpu_ok() const { return blocking.empty(); }
};
[[nodiscard]] WebGpuAudit audit_for_webgpu(const OnnxModelInfo& model);

// "[1, 1, D, 48, 48]": a shape as messages show it.
[[nodiscard]] std::string shape_text(const std::vector<std::int64_t>& dims);

}  // namespace cls::inference
