#include "cls/inference/onnx_graph.hpp"

#include <cstring>

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
constexpr std::uint32_t node = 1, initializer = 5, input = 11, output = 12, value_info = 13;
}
namespace node_field {
constexpr std::uint32_t input = 1, output = 2, name = 3, op_type = 4, attribute = 5, domain = 7;
}
namespace attribute_field {
constexpr std::uint32_t name = 1, i = 3, s = 4, t = 5, g = 6, ints = 8, graphs = 11;
}
namespace tensor_field {
constexpr std::uint32_t dims = 1, data_type = 2, float_data = 4, int64_data = 7, name = 8,
                        raw_data = 9, double_data = 10, external_data = 13, data_location = 14;
}

std::string text_of(const Field& field) { return std::string(wire::as_text(field.bytes)); }

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
Result<TensorInfo> read_value_info(ByteSpan bytes) {
    TensorInfo info;
    wire::Reader value(bytes);
    for (Field f; value.next(f);) {
        if (f.number == 1 && f.type == WireType::length_delimited) {
            info.name = text_of(f);
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

Result<OnnxAttribute> read_attribute(ByteSpan bytes, bool& has_subgraph) {
    OnnxAttribute attribute;
    wire::Reader reader(bytes);
    for (Field a; reader.next(a);) {
        if (a.number == attribute_field::name && a.type == WireType::length_delimited) {
            attribute.name = text_of(a);
        } else if (a.number == attribute_field::i && a.type == WireType::varint) {
            attribute.i = static_cast<std::int64_t>(a.varint);
        } else if (a.number == attribute_field::s && a.type == WireType::length_delimited) {
            attribute.s = text_of(a);
        } else if (a.number == attribute_field::t && a.type == WireType::length_delimited) {
            attribute.tensor = a.bytes;
        } else if (a.number == attribute_field::ints) {
            if (!append_int64s(a, attribute.ints)) return malformed("node attribute");
        } else if (a.number == attribute_field::g || a.number == attribute_field::graphs) {
            has_subgraph = true;
        }
    }
    if (reader.failed()) return malformed("node attribute");
    return attribute;
}

Result<OnnxNode> read_node(const Field& node_field) {
    OnnxNode node;
    node.field = node_field.raw;
    wire::Reader reader(node_field.bytes);
    for (Field f; reader.next(f);) {
        if (f.type != WireType::length_delimited) continue;
        switch (f.number) {
            case node_field::input:
                node.inputs.push_back(text_of(f));
                break;
            case node_field::output:
                node.outputs.push_back(text_of(f));
                break;
            case node_field::name:
                node.name = text_of(f);
                break;
            case node_field::op_type:
                node.op_type = text_of(f);
                break;
            case node_field::domain:
                node.domain = text_of(f);
                break;
            case node_field::attribute: {
                auto attribute = read_attribute(f.bytes, node.has_subgraph);
                if (!attribute) return attribute.error();
                node.attributes.push_back(std::move(*attribute));
                break;
            }
            default:
                break;
        }
    }
    if (reader.failed()) return malformed("node");
    return node;
}

Result<OnnxInitializer> read_tensor(ByteSpan payload, ByteSpan field) {
    OnnxInitializer tensor;
    tensor.field = field;
    wire::Reader reader(payload);
    for (Field f; reader.next(f);) {
        switch (f.number) {
            case tensor_field::dims:
                if (!append_int64s(f, tensor.dims)) return malformed("initializer");
                break;
            case tensor_field::data_type:
                if (f.type == WireType::varint) tensor.data_type = static_cast<int>(f.varint);
                break;
            case tensor_field::name:
                if (f.type == WireType::length_delimited) tensor.name = text_of(f);
                break;
            case tensor_field::raw_data:
                if (f.type == WireType::length_delimited) tensor.raw_data = f.bytes;
                break;
            case tensor_field::float_data:
            case tensor_field::double_data:
                // Packed (one length-delimited field) or one fixed-size field per element;
                // either way the payload is the elements' little-endian bytes.
                if (f.type != WireType::varint) tensor.typed.push_back(f.bytes);
                break;
            case tensor_field::int64_data: {
                std::vector<std::int64_t> values;
                if (!append_int64s(f, values)) return malformed("initializer");
                for (std::int64_t v : values) {
                    if (tensor.int64_data.size() == kMaxInt64Data) {
                        tensor.int64_data_cut = true;
                        break;
                    }
                    tensor.int64_data.push_back(v);
                }
                break;
            }
            case tensor_field::external_data:
                tensor.external = true;
                break;
            case tensor_field::data_location:
                if (f.type == WireType::varint && f.varint == 1) tensor.external = true;
                break;
            default:
                break;
        }
    }
    if (reader.failed()) return malformed("initializer");
    return tensor;
}

Status read_graph(ByteSpan bytes, OnnxGraph& graph) {
    wire::Reader reader(bytes);
    for (Field f; reader.next(f);) {
        if (f.type != WireType::length_delimited) continue;
        switch (f.number) {
            case graph_field::node: {
                auto node = read_node(f);
                if (!node) return node.error();
                graph.nodes.push_back(std::move(*node));
                break;
            }
            case graph_field::initializer: {
                auto initializer = read_tensor(f.bytes, f.raw);
                if (!initializer) return initializer.error();
                graph.initializers.push_back(std::move(*initializer));
                break;
            }
            case graph_field::input:
            case graph_field::output: {
                auto value = read_value_info(f.bytes);
                if (!value) return value.error();
                (f.number == graph_field::input ? graph.declared_inputs : graph.outputs)
                    .push_back(std::move(*value));
                break;
            }
            case graph_field::value_info: {
                // Only the name matters here (a rewrite must not reuse it); field 1.
                wire::Reader value(f.bytes);
                for (Field v; value.next(v);) {
                    if (v.number == 1 && v.type == WireType::length_delimited)
                        graph.value_info_names.push_back(text_of(v));
                }
                if (value.failed()) return malformed("graph value info");
                break;
            }
            default:
                break;
        }
    }
    if (reader.failed()) return malformed("graph");
    return Done{};
}

}  // namespace

Result<OnnxInitializer> read_onnx_tensor(ByteSpan tensor_proto) {
    return read_tensor(tensor_proto, tensor_proto);
}

std::optional<std::vector<double>> small_tensor_values(const OnnxInitializer& tensor,
                                                       std::size_t max_count) {
    const auto count = tensor.element_count();
    if (!count || *count > max_count || tensor.external) return std::nullopt;
    const auto n = static_cast<std::size_t>(*count);
    std::vector<double> values;
    const auto decode = [&](std::span<const std::uint8_t> bytes) -> bool {
        const std::size_t size = element_size(tensor.data_type);
        if (size == 0 || bytes.size() != n * size) return false;
        for (std::size_t i = 0; i < n; ++i) {
            std::uint64_t bits = 0;
            for (std::size_t b = 0; b < size; ++b)
                bits |= static_cast<std::uint64_t>(bytes[i * size + b]) << (8 * b);
            switch (tensor.data_type) {
                case onnx_type::float32: {
                    float v;
                    const auto word = static_cast<std::uint32_t>(bits);
                    std::memcpy(&v, &word, 4);
                    values.push_back(v);
                    break;
                }
                case onnx_type::float64: {
                    double v;
                    std::memcpy(&v, &bits, 8);
                    values.push_back(v);
                    break;
                }
                case onnx_type::int32:
                    values.push_back(static_cast<std::int32_t>(static_cast<std::uint32_t>(bits)));
                    break;
                case onnx_type::int64:
                    values.push_back(static_cast<double>(static_cast<std::int64_t>(bits)));
                    break;
                default:
                    return false;
            }
        }
        return true;
    };
    if (!tensor.raw_data.empty()) {
        if (!decode(tensor.raw_data)) return std::nullopt;
    } else if (tensor.data_type == onnx_type::int64) {
        if (tensor.int64_data_cut || tensor.int64_data.size() != n) return std::nullopt;
        for (std::int64_t v : tensor.int64_data) values.push_back(static_cast<double>(v));
    } else {
        std::vector<std::uint8_t> joined;
        for (ByteSpan part : tensor.typed) joined.insert(joined.end(), part.begin(), part.end());
        if (!decode(joined)) return std::nullopt;
    }
    return values;
}

const OnnxAttribute* OnnxNode::attribute(const std::string& attribute_name) const {
    for (const OnnxAttribute& a : attributes)
        if (a.name == attribute_name) return &a;
    return nullptr;
}

std::optional<std::uint64_t> OnnxInitializer::element_count() const {
    std::uint64_t count = 1;
    for (std::int64_t d : dims) {
        if (d < 0) return std::nullopt;
        const auto dim = static_cast<std::uint64_t>(d);
        if (dim != 0 && count > UINT64_MAX / dim) return std::nullopt;
        count *= dim;
    }
    return count;
}

const OnnxInitializer* OnnxGraph::initializer(const std::string& name) const {
    for (const OnnxInitializer& t : initializers)
        if (t.name == name) return &t;
    return nullptr;
}

std::size_t element_size(int data_type) {
    switch (data_type) {
        case 2:
        case 3:
        case 9:
        case 17:
        case 18:
        case 19:
        case 20:  // 8-bit types, bool
            return 1;
        case 4:
        case 5:
        case 10:
        case 16:  // 16-bit ints, float16, bfloat16
            return 2;
        case 1:
        case 6:
        case 12:  // float32, int32, uint32
            return 4;
        case 7:
        case 11:
        case 13:
        case 14:  // int64, float64, uint64, complex64
            return 8;
        case 15:  // complex128
            return 16;
        default:  // strings, 4-bit types, unknown
            return 0;
    }
}

Result<OnnxModel> read_onnx_model(ByteSpan bytes) {
    OnnxModel model;
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
                if (o.number == 1 && o.type == WireType::length_delimited) domain = text_of(o);
                if (o.number == 2 && o.type == WireType::varint)
                    version = static_cast<std::int64_t>(o.varint);
            }
            if (opset.failed()) return malformed("opset import");
            if (domain.empty() || domain == "ai.onnx") model.opset = version;
        } else if (f.number == model_field::graph && f.type == WireType::length_delimited) {
            // Protobuf merges a repeated message field: a second graph adds to the first.
            if (Status graph = read_graph(f.bytes, model.graph); !graph) return graph.error();
            has_graph = true;
        }
    }
    if (reader.failed()) return malformed("model (is it an .onnx file?)");
    if (!has_graph || model.ir_version <= 0)
        return make_error("not an ONNX model: it has no graph or no IR version");
    return model;
}

}  // namespace cls::inference
