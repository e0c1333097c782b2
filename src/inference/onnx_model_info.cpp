#include "cls/inference/onnx_model_info.hpp"

#include <map>
#include <set>

#include "cls/inference/onnx_graph.hpp"

namespace cls::inference {

Result<OnnxModelInfo> read_onnx_model_info(std::span<const std::uint8_t> bytes) {
    auto model = read_onnx_model(bytes);
    if (!model) return model.error();
    OnnxModelInfo info;
    info.ir_version = model->ir_version;
    info.opset = model->opset;
    const OnnxGraph& graph = model->graph;
    // Older exporters list initializers among the inputs too; they are weights, not inputs.
    std::map<std::string, std::size_t> initializer_rank;
    for (const OnnxInitializer& t : graph.initializers) initializer_rank[t.name] = t.dims.size();
    for (const TensorInfo& input : graph.declared_inputs) {
        if (!initializer_rank.contains(input.name)) info.inputs.push_back(input);
    }
    info.outputs = graph.outputs;
    for (const OnnxNode& node : graph.nodes) {
        NodeInfo summary{node.op_type, node.domain, 0};
        if (const OnnxAttribute* kernel = node.attribute("kernel_shape"))
            summary.kernel_rank = kernel->ints.size();
        if (summary.kernel_rank == 0 && node.inputs.size() > 1) {
            // Without kernel_shape, a convolution's spatial rank is its weights' rank - 2.
            auto weight = initializer_rank.find(node.inputs[1]);
            if (weight != initializer_rank.end() && weight->second > 2)
                summary.kernel_rank = weight->second - 2;
        }
        info.nodes.push_back(std::move(summary));
    }
    if (info.inputs.empty() || info.outputs.empty())
        return make_error("the ONNX model declares no graph input or no graph output");
    return info;
}

WebGpuAudit audit_for_webgpu(const OnnxModelInfo& model) {
    WebGpuAudit audit;
    std::set<std::string> seen;
    for (const NodeInfo& node : model.nodes) {
        if (!node.domain.empty() && node.domain != "ai.onnx") continue;
        const bool three_d = node.kernel_rank == 3;
        if (node.op_type == "ConvTranspose" && three_d && seen.insert("ConvTranspose").second) {
            audit.blocking.push_back(
                "3D ConvTranspose: ONNX Runtime Web's WebGPU provider cannot run it");
        }
        if ((node.op_type == "MaxPool" || node.op_type == "AveragePool") && three_d &&
            seen.insert(node.op_type).second) {
            audit.notes.push_back("3D " + node.op_type +
                                  ": WebGPU runs it only in NCHW layout, which the app asks for");
        }
    }
    return audit;
}

std::string shape_text(const std::vector<std::int64_t>& dims) {
    std::string text = "[";
    for (std::size_t i = 0; i < dims.size(); ++i) {
        if (i > 0) text += ", ";
        text += dims[i] == kDynamicDim ? "?" : std::to_string(dims[i]);
    }
    return text + "]";
}

}  // namespace cls::inference
