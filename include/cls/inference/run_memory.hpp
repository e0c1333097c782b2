// How much memory one run of an ONNX model on one patch needs, estimated from the graph before
// any runtime session exists, so the app can refuse a model too big for the tab with the
// numbers instead of letting ONNX Runtime Web run out of memory. Tensor shapes are followed
// node by node from the patch's shape (Conv, ConvTranspose, pooling, Concat, Resize, Reshape,
// Transpose, reductions, broadcasting, and the small shape arithmetic exporters write with
// Shape, Gather, Slice, Concat and Cast); a tensor lives from its node to its last reader, and
// the peak is the most bytes alive at once, plus ConvTranspose's column buffer on the CPU.
// [X] shapes from the patch, liveness, weights, ConvTranspose workspace; the budget check
// [ ] ONNX Runtime's arena rounding and in-place reuse are not modelled (the margin covers them)
// [ ] ops it does not know get the largest input's shape (counted in `guessed`)
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cls/inference/onnx_graph.hpp"
#include "cls/result.hpp"

namespace cls::inference {

// What the estimate reads of a model, owned: it outlives the file's bytes, so the app can
// estimate again when a manifest (a patch size) arrives later.
struct MemoryGraph {
    struct Node {
        std::string name;
        std::string op_type;
        std::vector<std::string> inputs;
        std::vector<std::string> outputs;
        std::vector<OnnxAttribute> attributes;     // tensor spans cleared
        std::optional<std::vector<double>> value;  // a Constant's small value
        std::vector<std::int64_t> value_dims;
        int value_type = 0;
        [[nodiscard]] const OnnxAttribute* attribute(const std::string& name) const;
    };
    struct Tensor {
        std::vector<std::int64_t> dims;
        int data_type = 0;
        std::optional<std::vector<double>> values;  // small ones only: shapes, scales
    };
    std::vector<Node> nodes;
    std::map<std::string, Tensor> initializers;
    std::vector<std::string> inputs;  // real inputs, initializers excluded
    std::vector<std::string> outputs;
    std::uint64_t weight_bytes = 0;
};
[[nodiscard]] MemoryGraph memory_graph(const OnnxModel& model);

struct RunMemoryEstimate {
    std::uint64_t weight_bytes = 0;
    std::uint64_t peak_activation_bytes = 0;  // intermediate tensors alive at once, at most
    std::string peak_node;                    // the node running at that moment
    std::uint64_t largest_tensor_bytes = 0;
    std::string largest_tensor;
    std::size_t guessed = 0;  // outputs of ops the estimate does not know (shape guessed)
};

// One run on an input of `input_shape` ([1, C, D, H, W]) fed to the graph's first input.
[[nodiscard]] RunMemoryEstimate estimate_run_memory(const MemoryGraph& graph,
                                                    std::span<const std::int64_t> input_shape);

// ONNX Runtime Web's wasm heap: a wasm32 memory of at most 65536 pages (4 GiB), as its
// ort-wasm-simd-threaded.jsep.mjs declares (1.30). The page's sessions live there, apart from
// the app's own heap.
inline constexpr std::uint64_t kOrtWebHeapBytes = std::uint64_t{4} << 30;

// The bytes the runtime's heap must hold at its high-water mark: what the session keeps of
// the weights (measured: about three copies while a session is made and after) and the
// activations' peak, with a margin for the arena (see the definition).
[[nodiscard]] std::uint64_t runtime_heap_bytes(const RunMemoryEstimate& estimate);

// Refuses a run whose runtime_heap_bytes exceed `budget`, naming the model, the patch and the
// numbers, and what to do instead.
[[nodiscard]] Status check_run_memory(const RunMemoryEstimate& estimate, std::uint64_t budget,
                                      const std::string& model_name,
                                      std::span<const std::int64_t> input_shape);

}  // namespace cls::inference
