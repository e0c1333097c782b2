// A rewrite of an ONNX model, on its bytes, into ops ONNX Runtime Web's WebGPU provider runs.
// Its one rule: a 3D ConvTranspose whose kernel equals its stride, with no padding, output
// padding, dilation or groups (nnU-Net's up-sampling), is exactly a 1x1x1 Conv to
// C_out·s0·s1·s2 channels followed by a depth-to-space that interleaves each stride factor
// with its spatial axis, one axis at a time (Reshape, then a rank-5 Transpose that moves one
// axis; target shapes computed from the input's Shape, so dynamic sizes and batches work).
// The Conv's weights are the ConvTranspose's, permuted element for element (no arithmetic);
// everything else in the file keeps its bytes. Other ConvTranspose shapes stay as they are,
// with the reason, and such a model still runs on wasm.
// [X] anisotropic strides (1, 2, 2), bias or none, float32/float16/bfloat16/float64 weights in
//     raw_data, float_data or double_data, dynamic batch and spatial sizes
// [ ] weights from Constant nodes or in external files; ConvTranspose in subgraphs
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "cls/inference/onnx_model_info.hpp"
#include "cls/result.hpp"

namespace cls::inference {

struct WebGpuRewrite {
    std::vector<std::uint8_t> bytes;     // the rewritten model; empty when nothing changed
    std::vector<std::string> rewritten;  // one line per node rewritten, for the model panel
    std::vector<std::string> kept;       // one line per 3D ConvTranspose left alone, with why
    [[nodiscard]] bool changed() const { return !rewritten.empty(); }
};

// Rewrites every 3D ConvTranspose with kernel = stride as above; an error only when the
// bytes are not a readable ONNX model.
[[nodiscard]] Result<WebGpuRewrite> rewrite_for_webgpu(std::span<const std::uint8_t> bytes);

// What a WebGPU session runs, decided once for every edge: the model as it is when the audit
// allows WebGPU; else its rewrite, when the rewrite's audit allows it; else the model as it is
// with the audit's refusal, plus why each ConvTranspose stayed.
struct WebGpuModel {
    WebGpuAudit audit;                   // of what WebGPU would run
    std::vector<std::uint8_t> bytes;     // the rewritten model; empty: run the original
    std::vector<std::string> rewritten;  // what the rewrite did, when `bytes` holds it
};
[[nodiscard]] WebGpuModel prepare_for_webgpu(std::span<const std::uint8_t> bytes,
                                             const OnnxModelInfo& info);

}  // namespace cls::inference
