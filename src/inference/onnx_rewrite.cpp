#include "cls/inference/onnx_rewrite.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <set>

#include "cls/inference/onnx_graph.hpp"
#include "protobuf_wire.hpp"

namespace cls::inference {
namespace {

using wire::Bytes;
using wire::Field;
using wire::WireType;

// Field numbers from onnx/onnx.proto.
constexpr std::uint32_t kModelGraph = 7;
constexpr std::uint32_t kGraphNode = 1, kGraphInitializer = 5;
constexpr std::uint32_t kNodeInput = 1, kNodeOutput = 2, kNodeName = 3, kNodeOpType = 4,
                        kNodeAttribute = 5;
constexpr std::uint32_t kAttributeName = 1, kAttributeI = 3, kAttributeInts = 8,
                        kAttributeType = 20;
constexpr std::uint64_t kAttributeTypeInt = 2, kAttributeTypeInts = 7;
constexpr std::uint32_t kTensorDims = 1, kTensorDataType = 2, kTensorName = 8, kTensorRawData = 9;

// Reshape, Transpose, Shape, Gather, Concat and an int64 Mul all exist from opset 7.
constexpr std::int64_t kMinimumOpset = 7;
constexpr std::int64_t kMaxChannels = std::int64_t{1} << 24;
constexpr std::int64_t kMaxStride = 64;

// What a rewritable node is made of.
struct Plan {
    const OnnxNode* node = nullptr;
    const OnnxInitializer* weight = nullptr;
    const OnnxInitializer* bias = nullptr;  // null without a bias
    std::array<std::int64_t, 3> stride{};
    std::int64_t in_channels = 0;
    std::int64_t out_channels = 0;
};

std::string dims_text(std::span<const std::int64_t> dims, const char* separator = "x") {
    std::string text;
    for (std::size_t i = 0; i < dims.size(); ++i)
        text += (i ? separator : "") + std::to_string(dims[i]);
    return text;
}

std::string label_of(const OnnxNode& node) {
    return "'" + (node.name.empty() ? (node.outputs.empty() ? "" : node.outputs[0]) : node.name) +
           "'";
}

bool all_equal(const std::vector<std::int64_t>& values, std::int64_t expected) {
    return std::all_of(values.begin(), values.end(), [&](std::int64_t v) { return v == expected; });
}

// The tensor's elements as contiguous little-endian bytes, or why they cannot be had.
std::optional<std::string> tensor_bytes(const OnnxInitializer& tensor, Bytes& out) {
    const std::size_t size = element_size(tensor.data_type);
    const bool floating =
        tensor.data_type == onnx_type::float32 || tensor.data_type == onnx_type::float16 ||
        tensor.data_type == onnx_type::bfloat16 || tensor.data_type == onnx_type::float64;
    if (!floating) return "its weights are of ONNX type " + std::to_string(tensor.data_type);
    if (tensor.external) return "its weights are stored outside the .onnx file";
    const auto count = tensor.element_count();
    if (!count || *count > SIZE_MAX / size) return "its weights' shape is not readable";
    const std::size_t expected = static_cast<std::size_t>(*count) * size;
    out.clear();
    if (!tensor.raw_data.empty()) {
        out.assign(tensor.raw_data.begin(), tensor.raw_data.end());
    } else if (tensor.data_type == onnx_type::float32 || tensor.data_type == onnx_type::float64) {
        for (ByteSpan part : tensor.typed) wire::append_raw(out, part);
    }
    if (out.size() != expected) {
        return "its weights hold " + std::to_string(out.size()) + " bytes, not the " +
               std::to_string(expected) + " their shape needs";
    }
    return std::nullopt;
}

// Why a 3D ConvTranspose cannot become a 1x1x1 Conv, or nothing when it can (`plan` filled).
std::optional<std::string> why_kept(const OnnxNode& node, const OnnxGraph& graph,
                                    std::int64_t opset, Plan& plan) {
    if (opset < kMinimumOpset)
        return "the model's opset " + std::to_string(opset) + " predates the ops it needs";
    if (node.inputs.size() < 2 || node.inputs.size() > 3 || node.outputs.size() != 1)
        return "it does not have ConvTranspose's inputs and output";
    const OnnxInitializer* weight = graph.initializer(node.inputs[1]);
    if (weight == nullptr) return "its weights are not an initializer";
    if (weight->dims.size() != 5) return "its weights are not 3D";
    const std::span<const std::int64_t> kernel(weight->dims.data() + 2, 3);
    for (std::int64_t d : weight->dims)
        if (d <= 0) return "its weights have an empty dimension";
    // Bounds far above any network's, so the channel products below cannot overflow.
    if (weight->dims[0] > kMaxChannels || weight->dims[1] > kMaxChannels)
        return "its channel counts are out of range";
    for (std::int64_t k : kernel)
        if (k > kMaxStride) return "its kernel " + dims_text(kernel) + " is out of range";
    const auto attribute_ints = [&](const char* name) -> std::vector<std::int64_t> {
        const OnnxAttribute* a = node.attribute(name);
        return a ? a->ints : std::vector<std::int64_t>{};
    };
    if (const OnnxAttribute* shape = node.attribute("kernel_shape");
        shape && !std::equal(shape->ints.begin(), shape->ints.end(), kernel.begin(), kernel.end()))
        return "kernel_shape " + dims_text(shape->ints) + " unlike its weights' " +
               dims_text(kernel);
    std::vector<std::int64_t> stride = attribute_ints("strides");
    if (stride.empty()) stride.assign(3, 1);
    if (!std::equal(stride.begin(), stride.end(), kernel.begin(), kernel.end()))
        return "kernel " + dims_text(kernel) + ", stride " + dims_text(stride);
    if (const OnnxAttribute* group = node.attribute("group"); group && group->i.value_or(1) != 1)
        return "group " + std::to_string(*group->i);
    if (!all_equal(attribute_ints("dilations"), 1))
        return "dilations " + dims_text(attribute_ints("dilations"));
    if (!all_equal(attribute_ints("pads"), 0))
        return "padding " + dims_text(attribute_ints("pads"), ",");
    if (!all_equal(attribute_ints("output_padding"), 0))
        return "output padding " + dims_text(attribute_ints("output_padding"), ",");
    if (node.attribute("output_shape") != nullptr) return "an explicit output_shape";
    if (const OnnxAttribute* pad = node.attribute("auto_pad");
        pad && !pad->s.empty() && pad->s != "NOTSET" && pad->s != "VALID")
        return "auto_pad " + pad->s;

    plan.node = &node;
    plan.weight = weight;
    plan.in_channels = weight->dims[0];
    plan.out_channels = weight->dims[1];
    std::copy(kernel.begin(), kernel.end(), plan.stride.begin());
    Bytes scratch;
    if (auto problem = tensor_bytes(*weight, scratch)) return problem;
    plan.bias = nullptr;
    if (node.inputs.size() == 3 && !node.inputs[2].empty()) {
        plan.bias = graph.initializer(node.inputs[2]);
        if (plan.bias == nullptr) return "its bias is not an initializer";
        if (plan.bias->dims != std::vector<std::int64_t>{plan.out_channels} ||
            plan.bias->data_type != weight->data_type)
            return "its bias does not match its weights";
        if (auto problem = tensor_bytes(*plan.bias, scratch)) return "bias: " + *problem;
    }
    return std::nullopt;
}

// Names the rewrite adds, none of them already used in the graph.
class FreshNames {
public:
    explicit FreshNames(const OnnxGraph& graph) {
        for (const OnnxNode& node : graph.nodes) {
            used_.insert(node.name);
            used_.insert(node.inputs.begin(), node.inputs.end());
            used_.insert(node.outputs.begin(), node.outputs.end());
        }
        for (const OnnxInitializer& t : graph.initializers) used_.insert(t.name);
        for (const TensorInfo& v : graph.declared_inputs) used_.insert(v.name);
        for (const TensorInfo& v : graph.outputs) used_.insert(v.name);
        used_.insert(graph.value_info_names.begin(), graph.value_info_names.end());
    }
    std::string operator()(const std::string& base) {
        std::string name = base;
        for (int n = 2; !used_.insert(name).second; ++n) name = base + "_" + std::to_string(n);
        return name;
    }

private:
    std::set<std::string> used_;
};

Bytes attribute_ints(const std::string& name, std::span<const std::int64_t> values) {
    Bytes out;
    wire::append_text_field(out, kAttributeName, name);
    for (std::int64_t v : values) wire::append_int64_field(out, kAttributeInts, v);
    wire::append_varint_field(out, kAttributeType, kAttributeTypeInts);
    return out;
}

Bytes attribute_int(const std::string& name, std::int64_t value) {
    Bytes out;
    wire::append_text_field(out, kAttributeName, name);
    wire::append_int64_field(out, kAttributeI, value);
    wire::append_varint_field(out, kAttributeType, kAttributeTypeInt);
    return out;
}

void append_node(Bytes& graph, const std::string& name, const std::string& op_type,
                 const std::vector<std::string>& inputs, const std::string& output,
                 const std::vector<Bytes>& attributes = {}) {
    Bytes node;
    for (const std::string& input : inputs) wire::append_text_field(node, kNodeInput, input);
    wire::append_text_field(node, kNodeOutput, output);
    wire::append_text_field(node, kNodeName, name);
    wire::append_text_field(node, kNodeOpType, op_type);
    for (const Bytes& attribute : attributes)
        wire::append_bytes_field(node, kNodeAttribute, attribute);
    wire::append_bytes_field(graph, kGraphNode, node);
}

Bytes tensor(const std::string& name, int data_type, std::span<const std::int64_t> dims,
             std::span<const std::uint8_t> data) {
    Bytes out;
    for (std::int64_t d : dims) wire::append_int64_field(out, kTensorDims, d);
    wire::append_varint_field(out, kTensorDataType, static_cast<std::uint64_t>(data_type));
    wire::append_text_field(out, kTensorName, name);
    wire::append_bytes_field(out, kTensorRawData, data);
    return out;
}

Bytes int64_tensor(const std::string& name, std::span<const std::int64_t> values) {
    Bytes data;
    for (std::int64_t v : values)
        for (int b = 0; b < 8; ++b)
            data.push_back(static_cast<std::uint8_t>(static_cast<std::uint64_t>(v) >> (8 * b)));
    const std::array<std::int64_t, 1> dims{static_cast<std::int64_t>(values.size())};
    return tensor(name, onnx_type::int64, dims, data);
}

// A dimension of an intermediate shape: one of the input's dimensions [N, C_in, D, H, W] or
// the constant 1 (index 5), times a constant. No shape here ever needs a product of two
// unknown sizes, so Gather and Mul on the input's shape compute each one.
struct ShapeTerm {
    std::int64_t index;
    std::int64_t factor;
};
constexpr std::int64_t kN = 0, kD = 2, kOne = 5;

// Where the rewrite of one node writes: its names, nodes and initializers.
struct Emitter {
    FreshNames& fresh;
    Bytes& graph;
    std::vector<Bytes>& tensors;
};

std::string base_name(const OnnxNode& node) {
    return node.name.empty() ? node.outputs[0] : node.name;
}

// The 1x1x1 Conv from the ConvTranspose's input to C_out·s0·s1·s2 channels, into `output`.
void emit_conv_1x1x1(const Plan& plan, const std::string& output, Emitter& to) {
    const std::string& input = plan.node->inputs[0];
    const std::int64_t blocks = plan.stride[0] * plan.stride[1] * plan.stride[2];
    const std::int64_t expanded = plan.out_channels * blocks;
    FreshNames& fresh = to.fresh;
    std::vector<Bytes>& tensors = to.tensors;

    // Weights: W[i][k] with k = ((o·s0 + a)·s1 + b)·s2 + c becomes W'[k][i] (1x1x1 kernel).
    const int type = plan.weight->data_type;
    const std::size_t size = element_size(type);
    Bytes weight;
    (void)tensor_bytes(*plan.weight, weight);  // checked when planned
    const auto in = static_cast<std::size_t>(plan.in_channels);
    const auto out = static_cast<std::size_t>(expanded);
    Bytes permuted(weight.size());
    for (std::size_t i = 0; i < in; ++i)
        for (std::size_t k = 0; k < out; ++k)
            std::copy_n(weight.begin() + static_cast<std::ptrdiff_t>((i * out + k) * size), size,
                        permuted.begin() + static_cast<std::ptrdiff_t>((k * in + i) * size));
    const std::string weight_name = fresh(plan.weight->name + "/as_1x1x1_conv");
    const std::array<std::int64_t, 5> weight_dims{expanded, plan.in_channels, 1, 1, 1};
    tensors.push_back(tensor(weight_name, type, weight_dims, permuted));
    std::vector<std::string> conv_inputs{input, weight_name};
    if (plan.bias != nullptr) {
        Bytes bias;
        (void)tensor_bytes(*plan.bias, bias);
        Bytes repeated(out * size);
        for (std::size_t k = 0; k < out; ++k)
            std::copy_n(bias.begin() + static_cast<std::ptrdiff_t>(
                                           k / static_cast<std::size_t>(blocks) * size),
                        size, repeated.begin() + static_cast<std::ptrdiff_t>(k * size));
        const std::string bias_name = fresh(plan.bias->name + "/as_1x1x1_conv");
        const std::array<std::int64_t, 1> bias_dims{expanded};
        tensors.push_back(tensor(bias_name, type, bias_dims, repeated));
        conv_inputs.push_back(bias_name);
    }
    const std::array<std::int64_t, 3> unit_kernel{1, 1, 1};
    append_node(to.graph, fresh(base_name(*plan.node) + "/conv_1x1x1"), "Conv", conv_inputs, output,
                {attribute_ints("kernel_shape", unit_kernel)});
}

// The depth-to-space from the Conv's output `from` to the ConvTranspose's own output.
void emit_depth_to_space(const Plan& plan, const std::string& from, Emitter& to) {
    const std::string base = base_name(*plan.node);
    const std::string& input = plan.node->inputs[0];
    const std::string& output = plan.node->outputs[0];
    const auto [s0, s1, s2] = plan.stride;
    FreshNames& fresh = to.fresh;
    Bytes& graph = to.graph;
    std::vector<Bytes>& tensors = to.tensors;
    std::string current = from;

    // The input's shape with a trailing 1: [N, C_in, D, H, W, 1].
    const std::string shape = fresh(base + "/input_shape");
    const std::string one = fresh(base + "/one");
    const std::string shape_and_one = fresh(base + "/input_shape_and_one");
    const std::array<std::int64_t, 1> one_value{1};
    tensors.push_back(int64_tensor(one, one_value));
    append_node(graph, fresh(base + "/shape"), "Shape", {input}, shape);
    append_node(graph, fresh(base + "/shape_and_one"), "Concat", {shape, one}, shape_and_one,
                {attribute_int("axis", 0)});
    int step = 0;
    const auto reshape = [&](const std::array<ShapeTerm, 5>& terms, const std::string& target) {
        const std::string tag = base + "/depth_to_space_" + std::to_string(step);
        std::array<std::int64_t, 5> indices{}, factors{};
        for (std::size_t i = 0; i < 5; ++i) {
            indices[i] = terms[i].index;
            factors[i] = terms[i].factor;
        }
        const std::string index_name = fresh(tag + "/shape_indices");
        const std::string factor_name = fresh(tag + "/shape_factors");
        tensors.push_back(int64_tensor(index_name, indices));
        tensors.push_back(int64_tensor(factor_name, factors));
        const std::string gathered = fresh(tag + "/gathered");
        const std::string target_shape = fresh(tag + "/shape");
        append_node(graph, fresh(tag + "/gather"), "Gather", {shape_and_one, index_name}, gathered,
                    {attribute_int("axis", 0)});
        append_node(graph, fresh(tag + "/mul"), "Mul", {gathered, factor_name}, target_shape);
        append_node(graph, fresh(tag + "/reshape"), "Reshape", {current, target_shape}, target);
        current = target;
    };

    // The Conv's channel k = ((o·s0 + a)·s1 + b)·s2 + c holds output voxel
    // (o, d·s0 + a, h·s1 + b, w·s2 + c). Innermost axis first: split its factor off the
    // channels as axis 1 of a rank-5 tensor [N·C·(outer factors), s, D, H, W] (spatial axes
    // already done are wider), move it behind its spatial axis, and the memory order is that
    // axis times its factor.
    std::array<std::int64_t, 3> pending = plan.stride;  // factors still in the channels
    std::array<std::int64_t, 3> widened{1, 1, 1};       // factors already in D, H, W
    for (int axis = 2; axis >= 0; --axis) {
        const std::int64_t s = plan.stride[static_cast<std::size_t>(axis)];
        if (s == 1) continue;
        std::int64_t lead = plan.out_channels;
        for (int j = 0; j < axis; ++j) lead *= pending[static_cast<std::size_t>(j)];
        std::array<ShapeTerm, 5> terms{ShapeTerm{kN, lead}, ShapeTerm{kOne, s}};
        for (std::size_t j = 0; j < 3; ++j)
            terms[2 + j] = ShapeTerm{kD + static_cast<std::int64_t>(j), widened[j]};
        const std::string split =
            fresh(base + "/depth_to_space_" + std::to_string(step) + "/split");
        reshape(terms, split);
        std::vector<std::int64_t> perm{0, 2, 3, 4};
        perm.insert(perm.begin() + 2 + axis, 1);  // the factor right behind its axis
        const std::string moved =
            fresh(base + "/depth_to_space_" + std::to_string(step) + "/moved");
        append_node(graph, fresh(base + "/depth_to_space_" + std::to_string(step) + "/transpose"),
                    "Transpose", {current}, moved, {attribute_ints("perm", perm)});
        current = moved;
        pending[static_cast<std::size_t>(axis)] = 1;
        widened[static_cast<std::size_t>(axis)] = s;
        ++step;
    }
    reshape({ShapeTerm{kN, 1}, ShapeTerm{kOne, plan.out_channels}, ShapeTerm{kD, s0},
             ShapeTerm{kD + 1, s1}, ShapeTerm{kD + 2, s2}},
            output);
}

// Emits the nodes and initializers that replace `plan.node`.
void emit_rewrite(const Plan& plan, FreshNames& fresh, Bytes& graph, std::vector<Bytes>& tensors) {
    Emitter to{fresh, graph, tensors};
    const std::string& output = plan.node->outputs[0];
    if (plan.stride == std::array<std::int64_t, 3>{1, 1, 1}) {
        emit_conv_1x1x1(plan, output, to);  // a 1x1x1 ConvTranspose is the Conv alone
        return;
    }
    const std::string expanded = fresh(base_name(*plan.node) + "/conv_1x1x1_output");
    emit_conv_1x1x1(plan, expanded, to);
    emit_depth_to_space(plan, expanded, to);
}

std::string describe(const Plan& plan) {
    const std::int64_t expanded =
        plan.out_channels * plan.stride[0] * plan.stride[1] * plan.stride[2];
    return "ConvTranspose " + label_of(*plan.node) + " (kernel = stride " + dims_text(plan.stride) +
           ", " + std::to_string(plan.in_channels) + " -> " + std::to_string(plan.out_channels) +
           " channels) became a 1x1x1 Conv to " + std::to_string(expanded) +
           " channels and a depth-to-space";
}

bool is_3d_conv_transpose(const OnnxNode& node, const OnnxGraph& graph) {
    if (node.op_type != "ConvTranspose" || !node.in_default_domain()) return false;
    if (const OnnxAttribute* kernel = node.attribute("kernel_shape");
        kernel && !kernel->ints.empty())
        return kernel->ints.size() == 3;
    const OnnxInitializer* weight =
        node.inputs.size() > 1 ? graph.initializer(node.inputs[1]) : nullptr;
    return weight != nullptr && weight->dims.size() == 5;
}

}  // namespace

Result<WebGpuRewrite> rewrite_for_webgpu(std::span<const std::uint8_t> bytes) {
    auto model = read_onnx_model(bytes);
    if (!model) return model.error();
    const OnnxGraph& graph = model->graph;
    WebGpuRewrite result;
    std::map<std::size_t, Plan> plans;  // by node index
    for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
        const OnnxNode& node = graph.nodes[i];
        if (!is_3d_conv_transpose(node, graph)) continue;
        Plan plan;
        if (auto reason = why_kept(node, graph, model->opset, plan)) {
            result.kept.push_back("ConvTranspose " + label_of(node) + " stays (" + *reason +
                                  "); only kernel = stride, without padding, groups or dilation, "
                                  "becomes a 1x1x1 Conv");
        } else {
            plans.emplace(i, plan);
        }
    }
    if (plans.empty()) return result;

    // A replaced node's weights go too, unless something else may still read them: another
    // node, the graph's interface, or a subgraph (whose outer names are not looked into).
    std::map<std::string, int> readers;
    bool subgraphs = false;
    for (const OnnxNode& node : graph.nodes) {
        for (const std::string& input : node.inputs) ++readers[input];
        subgraphs = subgraphs || node.has_subgraph;
    }
    for (const TensorInfo& v : graph.declared_inputs) ++readers[v.name];
    for (const TensorInfo& v : graph.outputs) ++readers[v.name];
    for (const auto& [index, plan] : plans) {
        --readers[plan.weight->name];
        if (plan.bias != nullptr) --readers[plan.bias->name];
    }
    const auto dropped = [&](const OnnxInitializer& t) {
        return !subgraphs && readers.contains(t.name) && readers[t.name] == 0;
    };

    FreshNames fresh(graph);
    Bytes new_graph;
    std::vector<Bytes> new_tensors;
    bool graph_written = false;
    Bytes out;
    out.reserve(bytes.size() + bytes.size() / 8);
    wire::Reader reader(bytes);
    for (Field f; reader.next(f);) {
        if (f.number != kModelGraph || f.type != WireType::length_delimited) {
            wire::append_raw(out, f.raw);
            continue;
        }
        if (graph_written) {
            result.kept.push_back("the model's graph is split over several fields; not rewritten");
            result.rewritten.clear();
            return result;
        }
        // The graph again, field by field, in the order read_onnx_model counted them.
        std::size_t node_index = 0;
        std::size_t initializer_index = 0;
        wire::Reader fields(f.bytes);
        for (Field g; fields.next(g);) {
            if (g.type == WireType::length_delimited && g.number == kGraphNode) {
                const auto plan = plans.find(node_index++);
                if (plan == plans.end()) {
                    wire::append_raw(new_graph, g.raw);
                } else {
                    emit_rewrite(plan->second, fresh, new_graph, new_tensors);
                    result.rewritten.push_back(describe(plan->second));
                }
            } else if (g.type == WireType::length_delimited && g.number == kGraphInitializer) {
                if (!dropped(graph.initializers[initializer_index++]))
                    wire::append_raw(new_graph, g.raw);
            } else {
                wire::append_raw(new_graph, g.raw);
            }
        }
        for (const Bytes& t : new_tensors)
            wire::append_bytes_field(new_graph, kGraphInitializer, t);
        wire::append_bytes_field(out, kModelGraph, new_graph);
        graph_written = true;
    }
    result.bytes = std::move(out);
    return result;
}

WebGpuModel prepare_for_webgpu(std::span<const std::uint8_t> bytes, const OnnxModelInfo& info) {
    WebGpuModel model{audit_for_webgpu(info), {}, {}};
    if (model.audit.webgpu_ok()) return model;
    auto rewrite = rewrite_for_webgpu(bytes);
    if (!rewrite) return model;
    if (rewrite->changed()) {
        if (auto rewritten = read_onnx_model_info(rewrite->bytes)) {
            WebGpuAudit audit = audit_for_webgpu(*rewritten);
            if (audit.webgpu_ok()) {
                return {std::move(audit), std::move(rewrite->bytes), std::move(rewrite->rewritten)};
            }
        }
    }
    model.audit.notes.insert(model.audit.notes.end(), rewrite->kept.begin(), rewrite->kept.end());
    return model;
}

}  // namespace cls::inference
