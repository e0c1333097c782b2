#include "cls/inference/run_memory.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

namespace cls::inference {
namespace {

using Dims = std::vector<std::int64_t>;
using Values = std::vector<double>;

constexpr std::size_t kMaxValues = 64;                        // small tensors: shapes, scales, axes
constexpr std::uint64_t kSaturated = std::uint64_t{1} << 62;  // no product overflows past it

// A tensor as the estimate follows it: its shape when known, its values when small and known.
struct Value {
    std::optional<Dims> shape;
    std::optional<Values> data;
    int type = onnx_type::float32;
};

std::uint64_t saturating_multiply(std::uint64_t a, std::uint64_t b) {
    if (a != 0 && b > kSaturated / a) return kSaturated;
    return a * b;
}

std::uint64_t bytes_of(const Value& value) {
    if (!value.shape) return 0;
    std::uint64_t count = 1;
    for (std::int64_t d : *value.shape)
        count = saturating_multiply(count, d > 0 ? static_cast<std::uint64_t>(d) : 0);
    const std::size_t size = element_size(value.type);
    return saturating_multiply(count, size ? size : 4);
}

// Sizes computed from a hostile file stay in [0, 2^50], where sums and products of a few of
// them cannot overflow (bytes_of saturates the rest).
constexpr double kMaxDim = static_cast<double>(std::int64_t{1} << 50);
std::int64_t clamp_dim(double value) {
    if (!(value >= 0)) return 0;
    return value > kMaxDim ? std::int64_t{1} << 50 : static_cast<std::int64_t>(value);
}
// A value used as an index, an axis or a target dimension (which may be -1 or 0).
std::int64_t to_integer(double value) {
    if (!(value > -kMaxDim)) return -(std::int64_t{1} << 50);
    return value > kMaxDim ? std::int64_t{1} << 50 : static_cast<std::int64_t>(value);
}
double as_double(std::int64_t value) { return static_cast<double>(value); }
Dims clamped(Dims dims) {
    for (std::int64_t& d : dims) d = clamp_dim(as_double(d));
    return dims;
}

std::optional<Dims> as_dims(const std::optional<Values>& data) {
    if (!data) return std::nullopt;
    Dims dims;
    for (double v : *data) dims.push_back(to_integer(v));
    return dims;
}

std::optional<Dims> broadcast(const std::vector<const Value*>& inputs) {
    Dims out;
    for (const Value* v : inputs) {
        if (!v->shape) return std::nullopt;
        const Dims& s = *v->shape;
        if (s.size() > out.size()) out.insert(out.begin(), s.size() - out.size(), 1);
        for (std::size_t i = 0; i < s.size(); ++i) {
            std::int64_t& o = out[out.size() - s.size() + i];
            if (s[i] != 1) o = std::max(o, s[i]);
            if (o == 1) o = s[i];
        }
    }
    return out;
}

std::size_t axis_of(std::int64_t axis, std::size_t rank) {
    const auto r = static_cast<std::int64_t>(rank);
    if (axis < 0) axis += r;
    return static_cast<std::size_t>(
        std::clamp<std::int64_t>(axis, 0, std::max<std::int64_t>(r - 1, 0)));
}

Dims ints(const MemoryGraph::Node& node, const char* name, Dims otherwise = {}) {
    const OnnxAttribute* a = node.attribute(name);
    return a ? a->ints : otherwise;
}
std::int64_t integer(const MemoryGraph::Node& node, const char* name, std::int64_t otherwise) {
    const OnnxAttribute* a = node.attribute(name);
    return a && a->i ? *a->i : otherwise;
}
std::string text(const MemoryGraph::Node& node, const char* name) {
    const OnnxAttribute* a = node.attribute(name);
    return a ? a->s : std::string();
}

// The spatial output sizes of a convolution or pooling over `in`.
std::optional<Dims> windowed(const MemoryGraph::Node& node, const Dims& in, const Dims& kernel,
                             bool transposed) {
    if (in.size() < 3 || kernel.size() != in.size() - 2) return std::nullopt;
    const std::size_t n = kernel.size();
    const Dims strides = ints(node, "strides", Dims(n, 1));
    const Dims dilations = ints(node, "dilations", Dims(n, 1));
    const Dims pads = ints(node, "pads", Dims(2 * n, 0));
    const Dims output_padding = ints(node, "output_padding", Dims(n, 0));
    const std::string auto_pad = text(node, "auto_pad");
    const bool ceil_mode = integer(node, "ceil_mode", 0) != 0;
    if (strides.size() != n || dilations.size() != n || pads.size() != 2 * n ||
        output_padding.size() != n)
        return std::nullopt;
    Dims out;
    for (std::size_t i = 0; i < n; ++i) {
        const double size = static_cast<double>(in[2 + i]);
        const double s = static_cast<double>(std::max<std::int64_t>(strides[i], 1));
        const double reach =
            static_cast<double>(dilations[i]) * static_cast<double>(kernel[i] - 1) + 1;
        const double padding = as_double(pads[i]) + as_double(pads[i + n]);
        double o;
        if (transposed) {
            o = auto_pad.rfind("SAME", 0) == 0
                    ? size * s
                    : s * (size - 1) + static_cast<double>(output_padding[i]) + reach - padding;
        } else if (auto_pad.rfind("SAME", 0) == 0) {
            o = std::ceil(size / s);
        } else {
            const double span = (size + (auto_pad == "VALID" ? 0 : padding) - reach) / s;
            o = (ceil_mode ? std::ceil(span) : std::floor(span)) + 1;
        }
        out.push_back(clamp_dim(o));
    }
    return out;
}

// Elementwise ops (same shape as their broadcast inputs), the estimate's largest family.
const std::set<std::string>& elementwise() {
    static const std::set<std::string> ops{"Add",
                                           "Sub",
                                           "Mul",
                                           "Div",
                                           "Pow",
                                           "Sqrt",
                                           "Reciprocal",
                                           "Floor",
                                           "Ceil",
                                           "Neg",
                                           "Abs",
                                           "Relu",
                                           "LeakyRelu",
                                           "PRelu",
                                           "Elu",
                                           "Selu",
                                           "Sigmoid",
                                           "HardSigmoid",
                                           "Tanh",
                                           "Exp",
                                           "Log",
                                           "Clip",
                                           "Erf",
                                           "Softmax",
                                           "LogSoftmax",
                                           "Identity",
                                           "Dropout",
                                           "Gelu",
                                           "Mish",
                                           "Softplus",
                                           "InstanceNormalization",
                                           "BatchNormalization",
                                           "LayerNormalization",
                                           "GroupNormalization",
                                           "Where",
                                           "Equal",
                                           "Less",
                                           "Greater",
                                           "Not",
                                           "And",
                                           "Or",
                                           "Min",
                                           "Max",
                                           "Mean",
                                           "Sum",
                                           "HardSwish",
                                           "Sign",
                                           "Round"};
    return ops;
}

std::optional<Values> arithmetic(const std::string& op, const std::vector<const Value*>& in) {
    for (const Value* v : in)
        if (!v->data) return std::nullopt;
    if (op == "Identity" || op == "Floor" || op == "Ceil" || op == "Neg") {
        Values out = *in[0]->data;
        for (double& v : out)
            v = op == "Floor" ? std::floor(v) : op == "Ceil" ? std::ceil(v) : op == "Neg" ? -v : v;
        return out;
    }
    if (in.size() != 2 || (op != "Add" && op != "Sub" && op != "Mul" && op != "Div"))
        return std::nullopt;
    const Values& a = *in[0]->data;
    const Values& b = *in[1]->data;
    if (a.size() != b.size() && a.size() != 1 && b.size() != 1) return std::nullopt;
    const bool integral = in[0]->type == onnx_type::int64 || in[0]->type == onnx_type::int32;
    Values out(std::max(a.size(), b.size()));
    for (std::size_t i = 0; i < out.size(); ++i) {
        const double x = a[a.size() == 1 ? 0 : i], y = b[b.size() == 1 ? 0 : i];
        double r = op == "Add"   ? x + y
                   : op == "Sub" ? x - y
                   : op == "Mul" ? x * y
                                 : (y != 0 ? x / y : 0);
        if (integral && op == "Div") r = std::trunc(r);
        out[i] = r;
    }
    return out;
}

class ShapeFollower {
public:
    Value& operator[](const std::string& name) { return values_[name]; }
    std::size_t guessed() const { return guessed_; }

    std::vector<Value> run(const MemoryGraph::Node& node) {
        std::vector<const Value*> in;
        for (const std::string& name : node.inputs) in.push_back(&values_[name]);  // "" is empty
        std::vector<Value> out(node.outputs.size());
        if (out.empty()) return out;
        if (!infer(node, in, out)) {
            // Unknown: the largest input's shape, which fits the elementwise ops it most
            // likely is; counted, so the caller can say the estimate is rougher.
            const Value* largest = nullptr;
            for (const Value* v : in)
                if (v->shape && (largest == nullptr || bytes_of(*v) > bytes_of(*largest)))
                    largest = v;
            for (Value& o : out) {
                o = Value{};
                if (largest) {
                    o.shape = largest->shape;
                    o.type = largest->type;
                }
            }
            ++guessed_;
        }
        return out;
    }

private:
    bool infer(const MemoryGraph::Node& node, const std::vector<const Value*>& in,
               std::vector<Value>& out) {
        const std::string& op = node.op_type;
        Value& o = out[0];
        const auto input = [&](std::size_t i) -> const Value* {
            return i < in.size() && !node.inputs[i].empty() ? in[i] : nullptr;
        };
        const Value* x = input(0);
        if (op == "Constant") {
            if (!node.value && node.value_dims.empty()) return false;
            o.shape = clamped(node.value_dims);
            o.data = node.value;
            o.type = node.value_type;
            return true;
        }
        if (x == nullptr) return false;
        o.type = x->type;
        if (op == "Shape") {
            if (!x->shape) return false;
            const auto rank = static_cast<std::int64_t>(x->shape->size());
            std::int64_t start = integer(node, "start", 0), end = integer(node, "end", rank);
            if (start < 0) start += rank;
            if (end < 0) end += rank;
            start = std::clamp<std::int64_t>(start, 0, rank);
            end = std::clamp<std::int64_t>(end, start, rank);
            o.data = Values(x->shape->begin() + start, x->shape->begin() + end);
            o.shape = Dims{end - start};
            o.type = onnx_type::int64;
            return true;
        }
        if (op == "Cast") {
            o = *x;
            o.type = static_cast<int>(integer(node, "to", x->type));
            return true;
        }
        if (op == "Gather") {
            const Value* indices = input(1);
            if (!x->shape || !indices || !indices->shape || x->shape->empty()) return false;
            const std::size_t axis = axis_of(integer(node, "axis", 0), x->shape->size());
            Dims shape(x->shape->begin(), x->shape->begin() + static_cast<std::ptrdiff_t>(axis));
            shape.insert(shape.end(), indices->shape->begin(), indices->shape->end());
            shape.insert(shape.end(), x->shape->begin() + static_cast<std::ptrdiff_t>(axis) + 1,
                         x->shape->end());
            o.shape = shape;
            if (x->data && indices->data && x->shape->size() == 1) {
                Values picked;
                const auto n = static_cast<std::int64_t>(x->data->size());
                for (double i : *indices->data) {
                    auto k = to_integer(i);
                    if (k < 0) k += n;
                    if (k < 0 || k >= n) return false;
                    picked.push_back((*x->data)[static_cast<std::size_t>(k)]);
                }
                o.data = picked;
            }
            return true;
        }
        if (op == "Unsqueeze" || op == "Squeeze") {
            if (!x->shape) return false;
            std::optional<Dims> axes = node.attribute("axes")
                                           ? std::optional(ints(node, "axes"))
                                           : as_dims(input(1) ? input(1)->data : std::nullopt);
            Dims shape = *x->shape;
            if (op == "Unsqueeze") {
                if (!axes) return false;
                const std::size_t rank = shape.size() + axes->size();
                std::vector<std::size_t> at;
                for (std::int64_t a : *axes) at.push_back(axis_of(a, rank));
                std::sort(at.begin(), at.end());
                for (std::size_t a : at)
                    shape.insert(
                        shape.begin() + static_cast<std::ptrdiff_t>(std::min(a, shape.size())), 1);
            } else {
                Dims kept;
                for (std::size_t i = 0; i < shape.size(); ++i) {
                    bool drop = !axes && shape[i] == 1;
                    if (axes)
                        for (std::int64_t a : *axes) drop = drop || axis_of(a, shape.size()) == i;
                    if (!drop) kept.push_back(shape[i]);
                }
                shape = kept;
            }
            o.shape = shape;
            o.data = x->data;
            return true;
        }
        if (op == "Concat") {
            if (!x->shape || x->shape->empty()) return false;
            const std::size_t axis = axis_of(integer(node, "axis", 0), x->shape->size());
            Dims shape = *x->shape;
            shape[axis] = 0;
            Values data;
            bool known = true;
            for (const Value* v : in) {
                if (!v->shape || v->shape->size() != shape.size()) return false;
                shape[axis] = clamp_dim(as_double(shape[axis]) + as_double((*v->shape)[axis]));
                if (v->data)
                    data.insert(data.end(), v->data->begin(), v->data->end());
                else
                    known = false;
            }
            o.shape = shape;
            if (known && shape.size() == 1) o.data = data;
            return true;
        }
        if (op == "Slice") {
            if (!x->shape) return false;
            const auto list = [&](std::size_t i, const char* attr) {
                return node.attribute(attr) ? std::optional(ints(node, attr))
                                            : as_dims(input(i) ? input(i)->data : std::nullopt);
            };
            const auto starts = list(1, "starts"), ends = list(2, "ends");
            if (!starts || !ends || starts->size() != ends->size()) return false;
            Dims axes = list(3, "axes").value_or(Dims{});
            Dims steps = input(4) && input(4)->data ? *as_dims(input(4)->data) : Dims{};
            if (axes.empty())
                for (std::size_t i = 0; i < starts->size(); ++i)
                    axes.push_back(static_cast<std::int64_t>(i));
            if (steps.empty()) steps.assign(starts->size(), 1);
            if (axes.size() != starts->size() || steps.size() != starts->size()) return false;
            Dims shape = *x->shape;
            std::int64_t first = 0, step_1d = 1, count_1d = shape.empty() ? 0 : shape[0];
            for (std::size_t i = 0; i < axes.size(); ++i) {
                const std::size_t a = axis_of(axes[i], shape.size());
                const std::int64_t n = (*x->shape)[a], step = steps[i];
                if (step == 0) return false;
                auto clampi = [&](std::int64_t v, bool is_start) {
                    if (v < 0) v += n;
                    return step > 0 ? std::clamp<std::int64_t>(v, 0, n)
                                    : std::clamp<std::int64_t>(v, -1, n - 1) + (is_start ? 0 : 0);
                };
                const std::int64_t b = clampi((*starts)[i], true), e = clampi((*ends)[i], false);
                const std::int64_t count =
                    step > 0 ? std::max<std::int64_t>(0, (e - b + step - 1) / step)
                             : std::max<std::int64_t>(0, (b - e - step - 1) / -step);
                shape[a] = count;
                if (a == 0) {
                    first = b;
                    step_1d = step;
                    count_1d = count;
                }
            }
            o.shape = shape;
            if (x->data && x->shape->size() == 1 &&
                count_1d <= static_cast<std::int64_t>(kMaxValues)) {
                Values data;
                for (std::int64_t k = 0; k < count_1d; ++k) {
                    const std::int64_t at = first + k * step_1d;
                    if (at < 0 || at >= static_cast<std::int64_t>(x->data->size())) return true;
                    data.push_back((*x->data)[static_cast<std::size_t>(at)]);
                }
                o.data = data;
            }
            return true;
        }
        if (op == "Reshape") {
            const Value* target = input(1);
            if (!x->shape || !target || !target->data) return false;
            const bool allow_zero = integer(node, "allowzero", 0) != 0;
            Dims shape = *as_dims(target->data);
            std::uint64_t total = 1, known = 1;
            for (std::int64_t d : *x->shape)
                total = saturating_multiply(
                    total, static_cast<std::uint64_t>(std::max<std::int64_t>(d, 0)));
            std::ptrdiff_t infer_at = -1;
            for (std::size_t i = 0; i < shape.size(); ++i) {
                if (shape[i] == 0 && !allow_zero && i < x->shape->size()) shape[i] = (*x->shape)[i];
                if (shape[i] == -1)
                    infer_at = static_cast<std::ptrdiff_t>(i);
                else
                    known = saturating_multiply(
                        known, static_cast<std::uint64_t>(std::max<std::int64_t>(shape[i], 0)));
            }
            if (infer_at >= 0)
                shape[static_cast<std::size_t>(infer_at)] =
                    known ? static_cast<std::int64_t>(total / known) : 0;
            o.shape = shape;
            o.data = x->data;
            return true;
        }
        if (op == "Flatten") {
            if (!x->shape) return false;
            const std::size_t axis = std::min<std::size_t>(
                axis_of(integer(node, "axis", 1), x->shape->size() + 1), x->shape->size());
            std::int64_t a = 1, b = 1;
            for (std::size_t i = 0; i < x->shape->size(); ++i)
                ((i < axis) ? a : b) =
                    clamp_dim(as_double((i < axis) ? a : b) * as_double((*x->shape)[i]));
            o.shape = Dims{a, b};
            return true;
        }
        if (op == "Transpose") {
            if (!x->shape) return false;
            Dims perm = ints(node, "perm");
            if (perm.empty())
                for (std::size_t i = x->shape->size(); i-- > 0;)
                    perm.push_back(static_cast<std::int64_t>(i));
            if (perm.size() != x->shape->size()) return false;
            Dims shape;
            for (std::int64_t p : perm) shape.push_back((*x->shape)[axis_of(p, perm.size())]);
            o.shape = shape;
            return true;
        }
        if (op == "Expand" || op == "ConstantOfShape") {
            const Value* target = op == "Expand" ? input(1) : x;
            if (!target || !target->data) return false;
            Value wanted;
            wanted.shape = as_dims(target->data);
            o.shape = op == "Expand" ? broadcast({x, &wanted}) : wanted.shape;
            if (op == "ConstantOfShape") o.type = onnx_type::float32;
            return o.shape.has_value();
        }
        if (op == "Conv" || op == "ConvTranspose") {
            const Value* weight = input(1);
            if (!x->shape || !weight || !weight->shape || weight->shape->size() < 3) return false;
            const Dims kernel(weight->shape->begin() + 2, weight->shape->end());
            auto spatial = windowed(node, *x->shape, kernel, op == "ConvTranspose");
            if (!spatial) return false;
            if (op == "ConvTranspose") {
                const Dims explicit_shape = ints(node, "output_shape");
                if (explicit_shape.size() == spatial->size())
                    for (std::size_t i = 0; i < explicit_shape.size(); ++i)
                        (*spatial)[i] = clamp_dim(as_double(explicit_shape[i]));
            }
            const std::int64_t channels = op == "Conv"
                                              ? (*weight->shape)[0]
                                              : clamp_dim(as_double((*weight->shape)[1]) *
                                                          as_double(integer(node, "group", 1)));
            Dims shape{(*x->shape)[0], channels};
            shape.insert(shape.end(), spatial->begin(), spatial->end());
            o.shape = shape;
            return true;
        }
        if (op == "MaxPool" || op == "AveragePool" || op == "LpPool") {
            if (!x->shape) return false;
            auto spatial = windowed(node, *x->shape, ints(node, "kernel_shape"), false);
            if (!spatial) return false;
            Dims shape{(*x->shape)[0], (*x->shape)[1]};
            shape.insert(shape.end(), spatial->begin(), spatial->end());
            for (Value& each : out) each.shape = shape;  // MaxPool's indices, if asked for
            return true;
        }
        if (op == "GlobalAveragePool" || op == "GlobalMaxPool") {
            if (!x->shape || x->shape->size() < 2) return false;
            Dims shape = *x->shape;
            std::fill(shape.begin() + 2, shape.end(), 1);
            o.shape = shape;
            return true;
        }
        if (op == "Resize" || op == "Upsample") {
            if (!x->shape) return false;
            const Value* sizes = op == "Resize" ? input(3) : nullptr;
            const Value* scales =
                op == "Resize" ? (in.size() == 2 ? input(1) : input(2)) : input(1);
            if (sizes && sizes->data && sizes->data->size() == x->shape->size()) {
                o.shape = as_dims(sizes->data);
                return true;
            }
            if (scales && scales->data && scales->data->size() == x->shape->size()) {
                Dims shape;
                for (std::size_t i = 0; i < x->shape->size(); ++i)
                    shape.push_back(clamp_dim(
                        std::floor(static_cast<double>((*x->shape)[i]) * (*scales->data)[i])));
                o.shape = shape;
                return true;
            }
            return false;
        }
        if (op.rfind("Reduce", 0) == 0 || op == "ArgMax" || op == "ArgMin") {
            if (!x->shape) return false;
            std::optional<Dims> axes;
            if (op == "ArgMax" || op == "ArgMin")
                axes = Dims{integer(node, "axis", 0)};
            else if (node.attribute("axes"))
                axes = ints(node, "axes");
            else if (input(1))
                axes = as_dims(input(1)->data);
            if (!axes && input(1)) return false;  // axes computed at run time
            const bool keep = integer(node, "keepdims", 1) != 0;
            const bool noop =
                integer(node, "noop_with_empty_axes", 0) != 0 && (!axes || axes->empty());
            Dims shape;
            for (std::size_t i = 0; i < x->shape->size(); ++i) {
                bool reduced = !noop && (!axes || axes->empty());
                if (axes)
                    for (std::int64_t a : *axes)
                        reduced = reduced || axis_of(a, x->shape->size()) == i;
                if (!reduced)
                    shape.push_back((*x->shape)[i]);
                else if (keep)
                    shape.push_back(1);
            }
            o.shape = shape;
            if (op == "ArgMax" || op == "ArgMin") o.type = onnx_type::int64;
            return true;
        }
        if (op == "Pad") {
            if (!x->shape) return false;
            const std::optional<Dims> pads =
                node.attribute("pads") ? std::optional(ints(node, "pads"))
                                       : as_dims(input(1) ? input(1)->data : std::nullopt);
            if (!pads || pads->size() != 2 * x->shape->size()) return false;
            Dims shape = *x->shape;
            for (std::size_t i = 0; i < shape.size(); ++i)
                shape[i] = clamp_dim(as_double(shape[i]) + as_double((*pads)[i]) +
                                     as_double((*pads)[i + shape.size()]));
            o.shape = shape;
            return true;
        }
        if (op == "Split") {
            if (!x->shape || x->shape->empty()) return false;
            const std::size_t axis = axis_of(integer(node, "axis", 0), x->shape->size());
            std::optional<Dims> split = node.attribute("split")
                                            ? std::optional(ints(node, "split"))
                                            : as_dims(input(1) ? input(1)->data : std::nullopt);
            for (std::size_t k = 0; k < out.size(); ++k) {
                Dims shape = *x->shape;
                shape[axis] = split && split->size() == out.size()
                                  ? clamp_dim(as_double((*split)[k]))
                                  : (shape[axis] + static_cast<std::int64_t>(out.size()) - 1) /
                                        static_cast<std::int64_t>(out.size());
                out[k].shape = shape;
                out[k].type = x->type;
            }
            return true;
        }
        if (elementwise().contains(op)) {
            std::vector<const Value*> operands;
            for (std::size_t i = 0; i < in.size(); ++i)
                if (!node.inputs[i].empty()) operands.push_back(in[i]);
            // Normalisations' scale and bias broadcast along channels, not from the right.
            if (op.find("Normalization") != std::string::npos) operands.resize(1);
            o.shape = broadcast(operands);
            if (!o.shape) return false;
            if (o.shape->size() <= 1) o.data = arithmetic(op, operands);
            if (op == "Equal" || op == "Less" || op == "Greater" || op == "Not" || op == "And" ||
                op == "Or")
                o.type = 9;                                                 // bool
            for (std::size_t k = 1; k < out.size(); ++k) out[k] = Value{};  // masks, statistics
            return true;
        }
        return false;
    }

    std::map<std::string, Value> values_;
    std::size_t guessed_ = 0;
};

// ONNX Runtime's CPU ConvTranspose builds a column buffer of C_out/group · prod(kernel) per
// input voxel before scattering it (col2im); Conv's MLAS path works in bounded tiles.
std::uint64_t workspace_bytes(const MemoryGraph::Node& node, const Value* input,
                              const Value* weight) {
    if (node.op_type != "ConvTranspose" || !input || !weight || !input->shape || !weight->shape ||
        weight->shape->size() < 3 || input->shape->size() < 3)
        return 0;
    std::uint64_t count = 1;
    for (std::size_t i = 1; i < weight->shape->size(); ++i)
        count = saturating_multiply(
            count, static_cast<std::uint64_t>(std::max<std::int64_t>((*weight->shape)[i], 0)));
    for (std::size_t i = 2; i < input->shape->size(); ++i)
        count = saturating_multiply(
            count, static_cast<std::uint64_t>(std::max<std::int64_t>((*input->shape)[i], 0)));
    return saturating_multiply(count, 4);
}

// "3.4 GiB", "119 MiB", "34 KiB", "32 bytes": sizes as a message shows them, rounded up.
std::string size_text(std::uint64_t bytes) {
    char text[32];
    const auto in = [&](int shift) {
        return static_cast<double>(bytes) / static_cast<double>(std::uint64_t{1} << shift);
    };
    if (bytes >= (std::uint64_t{1} << 30))
        std::snprintf(text, sizeof text, "%.1f GiB", std::ceil(in(30) * 10) / 10);
    else if (bytes >= (std::uint64_t{1} << 20))
        std::snprintf(text, sizeof text, "%.0f MiB", std::ceil(in(20)));
    else if (bytes >= 1024)
        std::snprintf(text, sizeof text, "%.0f KiB", std::ceil(in(10)));
    else
        std::snprintf(text, sizeof text, "%llu bytes", static_cast<unsigned long long>(bytes));
    return text;
}

}  // namespace

const OnnxAttribute* MemoryGraph::Node::attribute(const std::string& attribute_name) const {
    for (const OnnxAttribute& a : attributes)
        if (a.name == attribute_name) return &a;
    return nullptr;
}

MemoryGraph memory_graph(const OnnxModel& model) {
    MemoryGraph graph;
    std::set<std::string> initializer_names;
    for (const OnnxInitializer& t : model.graph.initializers) {
        MemoryGraph::Tensor tensor{t.dims, t.data_type, small_tensor_values(t, kMaxValues)};
        if (const auto count = t.element_count()) {
            const std::size_t size = element_size(t.data_type);
            graph.weight_bytes += saturating_multiply(*count, size ? size : 4);
        }
        graph.initializers[t.name] = std::move(tensor);
        initializer_names.insert(t.name);
    }
    for (const TensorInfo& input : model.graph.declared_inputs)
        if (!initializer_names.contains(input.name)) graph.inputs.push_back(input.name);
    for (const TensorInfo& output : model.graph.outputs) graph.outputs.push_back(output.name);
    for (const OnnxNode& n : model.graph.nodes) {
        MemoryGraph::Node node{n.name, n.op_type, n.inputs, n.outputs, n.attributes, {}, {}, 0};
        for (OnnxAttribute& a : node.attributes) {
            if (a.name == "value" && !a.tensor.empty()) {
                if (auto tensor = read_onnx_tensor(a.tensor)) {
                    node.value = small_tensor_values(*tensor, kMaxValues);
                    node.value_dims = tensor->dims;
                    node.value_type = tensor->data_type;
                }
            }
            a.tensor = {};  // the file's bytes may go; nothing here may point into them
        }
        graph.nodes.push_back(std::move(node));
    }
    return graph;
}

RunMemoryEstimate estimate_run_memory(const MemoryGraph& graph,
                                      std::span<const std::int64_t> input_shape) {
    RunMemoryEstimate estimate;
    estimate.weight_bytes = graph.weight_bytes;
    ShapeFollower values;
    for (const auto& [name, tensor] : graph.initializers) {
        Value& v = values[name];
        v.shape = clamped(tensor.dims);
        v.data = tensor.values;
        v.type = tensor.data_type;
    }
    if (!graph.inputs.empty()) {
        Value& input = values[graph.inputs.front()];
        input.shape = Dims(input_shape.begin(), input_shape.end());
        input.type = onnx_type::float32;
    }

    // Where each value is read for the last time; graph outputs live to the end.
    const std::size_t end = graph.nodes.size();
    std::map<std::string, std::size_t> last_read;
    for (std::size_t i = 0; i < end; ++i)
        for (const std::string& name : graph.nodes[i].inputs) last_read[name] = i;
    for (const std::string& name : graph.outputs) last_read[name] = end;
    std::set<std::string> constants;  // initializers and Constant outputs: not activations
    for (const auto& [name, tensor] : graph.initializers) constants.insert(name);

    std::uint64_t live = graph.inputs.empty() ? 0 : bytes_of(values[graph.inputs.front()]);
    for (std::size_t i = 0; i < end; ++i) {
        const MemoryGraph::Node& node = graph.nodes[i];
        std::vector<Value> outputs = values.run(node);
        std::uint64_t produced = 0;
        for (std::size_t k = 0; k < outputs.size(); ++k) {
            const std::string& name = node.outputs[k];
            if (name.empty()) continue;
            values[name] = std::move(outputs[k]);
            if (node.op_type == "Constant") {
                constants.insert(name);
                continue;
            }
            const std::uint64_t bytes = bytes_of(values[name]);
            produced += bytes;
            if (bytes > estimate.largest_tensor_bytes) {
                estimate.largest_tensor_bytes = bytes;
                estimate.largest_tensor = name;
            }
        }
        const Value* input = node.inputs.empty() ? nullptr : &values[node.inputs[0]];
        const Value* weight = node.inputs.size() > 1 ? &values[node.inputs[1]] : nullptr;
        const std::uint64_t at_peak = live + produced + workspace_bytes(node, input, weight);
        if (at_peak > estimate.peak_activation_bytes) {
            estimate.peak_activation_bytes = at_peak;
            estimate.peak_node = node.name.empty() ? node.op_type : node.name;
        }
        live += produced;
        std::set<std::string> freed;
        for (const std::string& name : node.inputs) {
            if (name.empty() || constants.contains(name) || !freed.insert(name).second) continue;
            const auto last = last_read.find(name);
            if (last != last_read.end() && last->second == i)
                live -= std::min(live, bytes_of(values[name]));
        }
        for (const std::string& name : node.outputs)
            if (!name.empty() && !last_read.contains(name) && !constants.contains(name))
                live -= std::min(live, bytes_of(values[name]));
    }
    estimate.guessed = values.guessed();
    return estimate;
}

std::uint64_t runtime_heap_bytes(const RunMemoryEstimate& estimate) {
    // Calibrated on ORT Web 1.30 (wasm, in Node) with nnU-Net's 31 M-parameter network: the
    // heap's high-water mark was about three copies of the weights (the model's bytes, its
    // initializers, MLAS's packed copies) plus the activations' peak; a quarter more covers
    // the arena's rounding.
    const std::uint64_t weights = saturating_multiply(estimate.weight_bytes, 3);
    return saturating_multiply(weights + estimate.peak_activation_bytes, 5) / 4;
}

Status check_run_memory(const RunMemoryEstimate& estimate, std::uint64_t budget,
                        const std::string& model_name, std::span<const std::int64_t> input_shape) {
    const std::uint64_t needed = runtime_heap_bytes(estimate);
    if (needed <= budget) return Done{};
    std::string patch;
    for (std::size_t i = 2; i < input_shape.size(); ++i)
        patch += (i > 2 ? "x" : "") + std::to_string(input_shape[i]);
    return make_error(model_name + ": a run on a " + patch + " patch needs about " +
                      size_text(needed) + " (weights " + size_text(estimate.weight_bytes) +
                      ", activations " + size_text(estimate.peak_activation_bytes) +
                      " at their peak, at '" + estimate.peak_node + "'), more than the " +
                      size_text(budget) +
                      " ONNX Runtime Web can hold in a tab; use a smaller patch_size in the "
                      "manifest, or run scripts/infer.mjs outside the browser");
}

}  // namespace cls::inference
