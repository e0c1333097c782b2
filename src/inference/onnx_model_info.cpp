#include "cls/inference/onnx_model_info.hpp"

#include <map>
#include <set>

#include "protobuf_wire.hpp"

namespace cls::inference {
namespace {

using wire::Field;
using wire::WireType;

// Field numbers from onnx/onnx.proto (stable since IR version 3).
namespace model_field {
constexpr std::uint32_t ir_version = 1, graph = 7, opset_import = 8;
}
namespace graph_field {
constexpr std::uint32_t node = 1, initializer = 5, input = 11, output = 12;
}
namespace node_field {
constexpr std::uint32_t input = 1, op_type = 4, attribute = 5, domain = 7;
}

// An int64 that may be stored packed (one length-delimited field) or as separate varints.
bool append_int64s(const Field& field, std::vector<std::int64_t>& out) {
    if (field.type == WireType::varint) {
        out.push_back(static_cast<std::int64_t>(field.varint));
        return true;
    }
    if (field.type != WireType::length_delimited) return false;
    wire::Reader packed(field.bytes);
    while (!packed.at_end()) {
        std::uint64_t value = 0;
        if (!packed.read_varint(value)) return false;
        out.push_back(static_cast<std::int64_t>(value));
    }
    return true;
}

Error malformed(const std::string& what) {
    return make_error("not a readable ONNX model: malformed " + what);
}

// TypeProto → Tensor → elem_type and shape.
Result<TensorInfo> read_value_info(std::span<const std::uint8_t> bytes) {
    TensorInfo info;
    wire::Reader value(bytes);
    for (Field f; value.next(f);) {
        if (f.number == 1 && f.type == WireType::length_delimited) {
            info.name = std::string(wire::as_text(f.bytes));
        } else if (f.number == 2 && f.type == WireType::length_delimited) {
            wire::Reader type(f.bytes);
            for (Field t; type.next(t);) {
                if (t.number != 1 || t.type != WireType::length_delimited) continue;
                wire::Reader tensor(t.bytes);
                for (Field e; tensor.next(e);) {
                    if (e.number == 1 && e.type == WireType::varint) {
                        info.element_type = static_cast<int>(e.varint);
                    } else if (e.number == 2 && e.type == WireType::length_delimited) {
                        wire::Reader shape(e.bytes);
                        for (Field d; shape.next(d);) {
                            if (d.number != 1 || d.type != WireType::length_delimited) continue;
                            std::int64_t dim = kDynamicDim;
                            wire::Reader dimension(d.bytes);
                            for (Field v; dimension.next(v);) {
                                if (v.number == 1 && v.type == WireType::varint &&
                                    static_cast<std::int64_t>(v.varint) >= 0)
                                    dim = static_cast<std::int64_t>(v.varint);
                            }
                            if (dimension.failed()) return malformed("tensor shape");
                            info.dims.push_back(dim);
                        }
                        if (shape.failed()) return malformed("tensor shape");
                    }
                }
                if (tensor.failed()) return malformed("tensor type");
            }
            if (type.failed()) return malformed("value type");
        }
    }
    if (value.failed()) return malformed("graph input or output");
    return info;
}

struct RawNode {
    NodeInfo info;
    std::string weight;  // the second input: a Conv's or ConvTranspose's weights
    std::size_t kernel_shape_rank = 0;
};

Result<RawNode> read_node(std::span<const std::uint8_t> bytes) {
    RawNode node;
    int input_index = 0;
    wire::Reader reader(bytes);
    for (Field f; reader.next(f);) {
        if (f.type != WireType::length_delimited) continue;
        if (f.number == node_field::op_type) {
            node.info.op_type = std::string(wire::as_text(f.bytes));
        } else if (f.number == node_field::domain) {
            node.info.domain = std::string(wire::as_text(f.bytes));
        } else if (f.number == node_field::input) {
            if (input_index++ == 1) node.weight = std::string(wire::as_text(f.bytes));
        } else if (f.number == node_field::attribute) {
            std::string name;
            std::vector<std::int64_t> ints;
            wire::Reader attribute(f.bytes);
            for (Field a; attribute.next(a);) {
                if (a.number == 1 && a.type == WireType::length_delimited)
                    name = std::string(wire::as_text(a.bytes));
                else if (a.number == 8 && !append_int64s(a, ints))
                    return malformed("node attribute");
            }
            if (attribute.failed()) return malformed("node attribute");
            if (name == "kernel_shape") node.kernel_shape_rank = ints.size();
        }
    }
    if (reader.failed()) return malformed("node");
    return node;
}

// An initializer's name and rank (TensorProto: dims = 1, name = 8).
Result<std::pair<std::string, std::size_t>> read_initializer(std::span<const std::uint8_t> bytes) {
    std::string name;
    std::vector<std::int64_t> dims;
    wire::Reader reader(bytes);
    for (Field f; reader.next(f);) {
        if (f.number == 1 && !append_int64s(f, dims)) return malformed("initializer");
        if (f.number == 8 && f.type == WireType::length_delimited)
            name = std::string(wire::as_text(f.bytes));
    }
    if (reader.failed()) return malformed("initializer");
    return std::pair{name, dims.size()};
}

Status read_graph(std::span<const std::uint8_t> bytes, OnnxModelInfo& model) {
    std::vector<TensorInfo> declared_inputs;
    std::vector<RawNode> nodes;
    std::map<std::string, std::size_t> initializer_rank;
    wire::Reader reader(bytes);
    for (Field f; reader.next(f);) {
        if (f.type != WireType::length_delimited) continue;
        switch (f.number) {
            case graph_field::node: {
                auto node = read_node(f.bytes);
                if (!node) return node.error();
                nodes.push_back(std::move(*node));
                break;
            }
            case graph_field::initializer: {
                auto initializer = read_initializer(f.bytes);
                if (!initializer) return initializer.error();
                initializer_rank[initializer->first] = initializer->second;
                break;
            }
            case graph_field::input:
            case graph_field::output: {
                auto value = read_value_info(f.bytes);
                if (!value) return value.error();
                (f.number == graph_field::input ? declared_inputs : model.outputs)
                    .push_back(std::move(*value));
                break;
            }
            default:
                break;
        }
    }
    if (reader.failed()) return malformed("graph");
    // Older exporters list initializers among the inputs too; they are weights, not inputs.
    for (TensorInfo& input : declared_inputs) {
        if (!initializer_rank.contains(input.name)) model.inputs.push_back(std::move(input));
    }
    for (RawNode& node : nodes) {
        node.info.kernel_rank = node.kernel_shape_rank;
        if (node.info.kernel_rank == 0) {
            // Without kernel_shape, a convolution's spatial rank is its weights' rank - 2.
            auto weight = initializer_rank.find(node.weight);
            if (weight != initializer_rank.end() && weight->second > 2)
                node.info.kernel_rank = weight->second - 2;
        }
        model.nodes.push_back(std::move(node.info));
    }
    return Done{};
}

}  // namespace

Result<OnnxModelInfo> read_onnx_model_info(std::span<const std::uint8_t> bytes) {
    OnnxModelInfo model;
    bool has_graph = false;
    wire::Reader reader(bytes);
    for (Field f; reader.next(f);) {
        if (f.number == model_field::ir_version && f.type == WireType::varint) {
            model.ir_version = static_cast<std::int64_t>(f.varint);
        } else if (f.number == model_field::opset_import && f.type == WireType::length_delimited) {
            std::string domain;
            std::int64_t version = 0;
            wire::Reader opset(f.bytes);
            for (Field o; opset.next(o);) {
                if (o.number == 1 && o.type == WireType::length_delimited)
                    domain = std::string(wire::as_text(o.bytes));
                if (o.number == 2 && o.type == WireType::varint)
                    version = static_cast<std::int64_t>(o.varint);
            }
            if (opset.failed()) return malformed("opset import");
            if (domain.empty() || domain == "ai.onnx") model.opset = version;
        } else if (f.number == model_field::graph && f.type == WireType::length_delimited) {
            if (Status graph = read_graph(f.bytes, model); !graph) return graph.error();
            has_graph = true;
        }
    }
    if (reader.failed()) return malformed("model (is it an .onnx file?)");
    if (!has_graph || model.ir_version <= 0)
        return make_error("not an ONNX model: it has no graph or no IR version");
    if (model.inputs.empty() || model.outputs.empty())
        return make_error("the ONNX model declares no graph input or no graph output");
    return model;
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
