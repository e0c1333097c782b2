// rewrite_for_webgpu on hand-encoded models: which ConvTranspose nodes become a 1x1x1 Conv and
// a depth-to-space, the graph it writes (and what that graph computes, by running its Reshape
// and Transpose chain on index arrays), the weights permuted bit for bit, every untouched
// field kept byte for byte, and why other shapes stay. Numeric parity with ONNX Runtime on
// torch-exported networks is in tests/web/onnx_networks_node.test.mjs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <numeric>

#include "cls/inference/onnx_graph.hpp"
#include "cls/inference/onnx_model_info.hpp"
#include "cls/inference/onnx_rewrite.hpp"
#include "onnx_test_model.hpp"

namespace cls::inference {
namespace {

using testing::attribute_int;
using testing::attribute_ints;
using testing::Bytes;
using testing::field;
using testing::float_tensor;
using testing::node;
using testing::onnx_model;
using testing::operator+;
using testing::tensor_value;

using Dims = std::vector<std::int64_t>;

// Distinct, exactly representable weight values: w[n] = n / 4 + 1 / 8.
std::vector<float> ramp(std::size_t count, float offset = 0.0f) {
    std::vector<float> values(count);
    for (std::size_t n = 0; n < count; ++n)
        values[n] = static_cast<float>(n) / 4.0f + 0.125f + offset;
    return values;
}

struct TransposeModel {
    Dims stride{2, 2, 2};
    Dims kernel{};  // defaults to the stride
    std::int64_t in_channels = 3;
    std::int64_t out_channels = 2;
    bool bias = true;
    bool float_data = false;
    std::vector<Bytes> extra_attributes;

    [[nodiscard]] Dims weight_dims() const {
        const Dims& k = kernel.empty() ? stride : kernel;
        return {in_channels, out_channels, k[0], k[1], k[2]};
    }
    [[nodiscard]] std::size_t weight_count() const {
        const Dims d = weight_dims();
        return static_cast<std::size_t>(
            std::accumulate(d.begin(), d.end(), std::int64_t{1}, std::multiplies<>()));
    }
    [[nodiscard]] Bytes weight() const {
        return float_tensor("up.weight", weight_dims(), ramp(weight_count()), float_data);
    }
    [[nodiscard]] Bytes bias_tensor() const {
        return float_tensor("up.bias", {out_channels},
                            ramp(static_cast<std::size_t>(out_channels), 100.0f));
    }
    [[nodiscard]] Bytes up_node() const {
        std::vector<Bytes> attributes{
            attribute_ints("kernel_shape", kernel.empty() ? stride : kernel),
            attribute_ints("strides", stride)};
        attributes.insert(attributes.end(), extra_attributes.begin(), extra_attributes.end());
        std::vector<std::string> inputs{"hidden", "up.weight"};
        if (bias) inputs.push_back("up.bias");
        return node("ConvTranspose", inputs, {"up"}, attributes, "/up/ConvTranspose");
    }
    // x -> Relu -> ConvTranspose -> Sigmoid -> y, with an unrelated initializer beside.
    [[nodiscard]] Bytes bytes() const {
        std::vector<Bytes> initializers{weight(), float_tensor("unused", {2}, {7.0f, 8.0f})};
        if (bias) initializers.push_back(bias_tensor());
        return onnx_model({node("Relu", {"x"}, {"hidden"}, {}, "relu"), up_node(),
                           node("Sigmoid", {"up"}, {"y"}, {}, "sigmoid")},
                          initializers, {tensor_value("x", {-1, in_channels, -1, -1, -1})},
                          {tensor_value("y", {-1, out_channels, -1, -1, -1})});
    }
};

bool contains(const Bytes& haystack, const Bytes& needle) {
    return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) !=
           haystack.end();
}

std::vector<float> floats_of(const OnnxInitializer& t) {
    std::vector<float> values(t.raw_data.size() / 4);
    std::memcpy(values.data(), t.raw_data.data(), values.size() * 4);
    return values;
}

Dims int64s_of(const OnnxInitializer& t) {
    Dims values(t.raw_data.size() / 8);
    std::memcpy(values.data(), t.raw_data.data(), values.size() * 8);
    return values;
}

const OnnxNode* producer(const OnnxGraph& graph, const std::string& name) {
    for (const OnnxNode& n : graph.nodes)
        if (std::find(n.outputs.begin(), n.outputs.end(), name) != n.outputs.end()) return &n;
    return nullptr;
}

std::vector<std::string> op_types(const OnnxGraph& graph) {
    std::vector<std::string> ops;
    for (const OnnxNode& n : graph.nodes) ops.push_back(n.op_type);
    return ops;
}

// The shape a rewritten Reshape asks for, given the ConvTranspose input's shape: its target is
// Mul(Gather(Concat(Shape(input), [1]), indices), factors).
Dims reshape_target(const OnnxGraph& graph, const OnnxNode& reshape, const Dims& input_shape) {
    const OnnxNode* mul = producer(graph, reshape.inputs.at(1));
    EXPECT_TRUE(mul && mul->op_type == "Mul");
    const OnnxNode* gather = producer(graph, mul->inputs.at(0));
    EXPECT_TRUE(gather && gather->op_type == "Gather");
    const OnnxNode* concat = producer(graph, gather->inputs.at(0));
    EXPECT_TRUE(concat && concat->op_type == "Concat");
    EXPECT_EQ(producer(graph, concat->inputs.at(0))->op_type, "Shape");
    EXPECT_EQ(int64s_of(*graph.initializer(concat->inputs.at(1))), Dims{1});
    Dims extended = input_shape;
    extended.push_back(1);
    const Dims indices = int64s_of(*graph.initializer(gather->inputs.at(1)));
    const Dims factors = int64s_of(*graph.initializer(mul->inputs.at(1)));
    Dims target;
    for (std::size_t i = 0; i < indices.size(); ++i)
        target.push_back(extended.at(static_cast<std::size_t>(indices[i])) * factors.at(i));
    return target;
}

// A row-major array of element ids, reshaped and transposed as ONNX does.
struct IdArray {
    Dims shape;
    std::vector<std::int64_t> ids;

    void reshape(const Dims& to) {
        ASSERT_EQ(std::accumulate(to.begin(), to.end(), std::int64_t{1}, std::multiplies<>()),
                  static_cast<std::int64_t>(ids.size()));
        shape = to;
    }
    void transpose(const Dims& perm) {
        const std::size_t rank = shape.size();
        Dims out_shape(rank);
        for (std::size_t i = 0; i < rank; ++i)
            out_shape[i] = shape[static_cast<std::size_t>(perm[i])];
        std::vector<std::int64_t> out(ids.size());
        Dims index(rank, 0);  // over the output
        for (std::int64_t& value : out) {
            std::int64_t source = 0;
            Dims in_index(rank);
            for (std::size_t i = 0; i < rank; ++i)
                in_index[static_cast<std::size_t>(perm[i])] = index[i];
            for (std::size_t i = 0; i < rank; ++i) source = source * shape[i] + in_index[i];
            value = ids[static_cast<std::size_t>(source)];
            for (std::size_t i = rank; i-- > 0;) {
                if (++index[i] < out_shape[i]) break;
                index[i] = 0;
            }
        }
        shape = out_shape;
        ids = std::move(out);
    }
};

struct Rewritten {
    WebGpuRewrite rewrite;
    OnnxModel model;
};

Rewritten rewrite(const Bytes& bytes) {
    auto result = rewrite_for_webgpu(bytes);
    EXPECT_TRUE(result) << (result ? "" : result.error().message);
    Rewritten out{std::move(*result), {}};
    if (out.rewrite.changed()) {
        auto model = read_onnx_model(out.rewrite.bytes);
        EXPECT_TRUE(model) << (model ? "" : model.error().message);
        if (model) out.model = std::move(*model);
    }
    return out;
}

// Runs the rewritten Reshape/Transpose chain on the Conv's output, filled with ids, for an
// input of `input_shape`, and checks every output voxel holds the Conv channel and voxel the
// definition of ConvTranspose with kernel = stride reads it from:
// y[n, o, d·s0 + a, h·s1 + b, w·s2 + c] = conv[n, ((o·s0 + a)·s1 + b)·s2 + c, d, h, w].
void expect_depth_to_space(const OnnxModel& model, const Dims& stride, std::int64_t out_channels,
                           const Dims& input_shape) {
    const OnnxGraph& graph = model.graph;
    const OnnxNode* conv = nullptr;
    for (const OnnxNode& n : graph.nodes)
        if (n.op_type == "Conv") conv = &n;
    ASSERT_NE(conv, nullptr);
    const std::int64_t n_ = input_shape[0], d_ = input_shape[2], h_ = input_shape[3],
                       w_ = input_shape[4];
    const std::int64_t s0 = stride[0], s1 = stride[1], s2 = stride[2];
    IdArray array{{n_, out_channels * s0 * s1 * s2, d_, h_, w_}, {}};
    array.ids.resize(static_cast<std::size_t>(n_ * out_channels * s0 * s1 * s2 * d_ * h_ * w_));
    std::iota(array.ids.begin(), array.ids.end(), 0);
    std::string current = conv->outputs[0];
    for (;;) {
        const OnnxNode* next = nullptr;
        for (const OnnxNode& n : graph.nodes)
            if (!n.inputs.empty() && n.inputs[0] == current &&
                (n.op_type == "Reshape" || n.op_type == "Transpose"))
                next = &n;
        if (next == nullptr) break;
        if (next->op_type == "Reshape") {
            array.reshape(reshape_target(graph, *next, input_shape));
        } else {
            ASSERT_EQ(array.shape.size(), 5u) << "WebGPU-safe: transposes of rank 5 at most";
            array.transpose(next->attribute("perm")->ints);
        }
        current = next->outputs[0];
    }
    EXPECT_EQ(current, "up") << "the chain ends in the ConvTranspose's own output";
    ASSERT_EQ(array.shape, (Dims{n_, out_channels, d_ * s0, h_ * s1, w_ * s2}));
    std::size_t at = 0;
    for (std::int64_t n = 0; n < n_; ++n)
        for (std::int64_t o = 0; o < out_channels; ++o)
            for (std::int64_t z = 0; z < d_ * s0; ++z)
                for (std::int64_t y = 0; y < h_ * s1; ++y)
                    for (std::int64_t x = 0; x < w_ * s2; ++x, ++at) {
                        const std::int64_t channel =
                            ((o * s0 + z % s0) * s1 + y % s1) * s2 + x % s2;
                        const std::int64_t expected =
                            (((n * out_channels * s0 * s1 * s2 + channel) * d_ + z / s0) * h_ +
                             y / s1) *
                                w_ +
                            x / s2;
                        ASSERT_EQ(array.ids[at], expected)
                            << "at n " << n << " o " << o << " z " << z << " y " << y << " x " << x;
                    }
}

TEST(OnnxRewrite, LeavesAModelWithoutA3dConvTransposeAlone) {
    auto result = rewrite_for_webgpu(testing::tiny_onnx_model("image", "logits", 16));
    ASSERT_TRUE(result);
    EXPECT_FALSE(result->changed());
    EXPECT_TRUE(result->bytes.empty());
    EXPECT_TRUE(result->kept.empty());

    // A 2D ConvTranspose runs on WebGPU as it is: neither rewritten nor reported.
    const Bytes two_d =
        onnx_model({node("ConvTranspose", {"x", "w"}, {"y"}, {attribute_ints("strides", {2, 2})})},
                   {float_tensor("w", {1, 1, 2, 2}, ramp(4))}, {tensor_value("x", {1, 1, 4, 4})},
                   {tensor_value("y", {1, 1, 8, 8})});
    result = rewrite_for_webgpu(two_d);
    ASSERT_TRUE(result);
    EXPECT_FALSE(result->changed());
    EXPECT_TRUE(result->kept.empty());
}

TEST(OnnxRewrite, NnUnetUpsamplingBecomesA1x1x1ConvAndADepthToSpace) {
    const TransposeModel original;
    const Rewritten r = rewrite(original.bytes());
    ASSERT_TRUE(r.rewrite.changed());
    EXPECT_TRUE(r.rewrite.kept.empty());
    ASSERT_EQ(r.rewrite.rewritten.size(), 1u);
    EXPECT_EQ(r.rewrite.rewritten[0],
              "ConvTranspose '/up/ConvTranspose' (kernel = stride 2x2x2, 3 -> 2 channels) became "
              "a 1x1x1 Conv to 16 channels and a depth-to-space");
    EXPECT_EQ(op_types(r.model.graph),
              (std::vector<std::string>{
                  "Relu",      "Conv",      "Shape",  "Concat",  "Gather",    "Mul",    "Reshape",
                  "Transpose", "Gather",    "Mul",    "Reshape", "Transpose", "Gather", "Mul",
                  "Reshape",   "Transpose", "Gather", "Mul",     "Reshape",   "Sigmoid"}));
    const OnnxNode& conv = r.model.graph.nodes[1];
    EXPECT_EQ(conv.inputs[0], "hidden");
    EXPECT_EQ(conv.attribute("kernel_shape")->ints, (Dims{1, 1, 1}));
    EXPECT_EQ(r.model.graph.initializer(conv.inputs[1])->dims, (Dims{16, 3, 1, 1, 1}));
    EXPECT_EQ(r.model.graph.nodes[7].attribute("perm")->ints, (Dims{0, 2, 3, 4, 1}));
    EXPECT_EQ(r.model.graph.nodes[11].attribute("perm")->ints, (Dims{0, 2, 3, 1, 4}));
    EXPECT_EQ(r.model.graph.nodes[15].attribute("perm")->ints, (Dims{0, 2, 1, 3, 4}));
    // What the chain computes, on a batch of two and unequal sizes (dynamic in the model).
    expect_depth_to_space(r.model, original.stride, original.out_channels, {2, 3, 2, 3, 4});

    // The audit that blocked WebGPU now passes.
    auto info = read_onnx_model_info(r.rewrite.bytes);
    ASSERT_TRUE(info);
    EXPECT_FALSE(audit_for_webgpu(*read_onnx_model_info(original.bytes())).webgpu_ok());
    EXPECT_TRUE(audit_for_webgpu(*info).webgpu_ok());
}

TEST(OnnxRewrite, AnisotropicAndUnitStrides) {
    TransposeModel anisotropic;
    anisotropic.stride = {1, 2, 2};
    anisotropic.bias = false;
    Rewritten r = rewrite(anisotropic.bytes());
    ASSERT_TRUE(r.rewrite.changed());
    EXPECT_EQ(op_types(r.model.graph),
              (std::vector<std::string>{"Relu", "Conv", "Shape", "Concat", "Gather", "Mul",
                                        "Reshape", "Transpose", "Gather", "Mul", "Reshape",
                                        "Transpose", "Gather", "Mul", "Reshape", "Sigmoid"}));
    EXPECT_EQ(r.model.graph.nodes[1].inputs.size(), 2u) << "no bias, none added";
    expect_depth_to_space(r.model, anisotropic.stride, anisotropic.out_channels, {1, 3, 3, 2, 5});

    TransposeModel unit;
    unit.stride = {1, 1, 1};
    r = rewrite(unit.bytes());
    ASSERT_TRUE(r.rewrite.changed());
    EXPECT_EQ(op_types(r.model.graph), (std::vector<std::string>{"Relu", "Conv", "Sigmoid"}));
    EXPECT_EQ(r.model.graph.nodes[1].outputs[0], "up");

    TransposeModel odd;
    odd.stride = {3, 1, 2};
    r = rewrite(odd.bytes());
    ASSERT_TRUE(r.rewrite.changed());
    expect_depth_to_space(r.model, odd.stride, odd.out_channels, {1, 3, 2, 2, 3});
}

// W[i][o][a][b][c] moves to W'[((o·s0 + a)·s1 + b)·s2 + c][i]; the bias repeats per block.
void expect_weights_permuted(const TransposeModel& original, const Rewritten& r) {
    const OnnxNode* conv = nullptr;
    for (const OnnxNode& n : r.model.graph.nodes)
        if (n.op_type == "Conv") conv = &n;
    ASSERT_NE(conv, nullptr);
    const std::vector<float> w = ramp(original.weight_count());
    const std::vector<float> permuted = floats_of(*r.model.graph.initializer(conv->inputs[1]));
    ASSERT_EQ(permuted.size(), w.size());
    const std::int64_t ci = original.in_channels, co = original.out_channels;
    const auto [s0, s1, s2] =
        std::array{original.stride[0], original.stride[1], original.stride[2]};
    for (std::int64_t i = 0; i < ci; ++i)
        for (std::int64_t o = 0; o < co; ++o)
            for (std::int64_t a = 0; a < s0; ++a)
                for (std::int64_t b = 0; b < s1; ++b)
                    for (std::int64_t c = 0; c < s2; ++c) {
                        const auto from =
                            static_cast<std::size_t>((((i * co + o) * s0 + a) * s1 + b) * s2 + c);
                        const auto to =
                            static_cast<std::size_t>((((o * s0 + a) * s1 + b) * s2 + c) * ci + i);
                        EXPECT_EQ(std::memcmp(&permuted[to], &w[from], 4), 0);
                    }
    const std::vector<float> bias = floats_of(*r.model.graph.initializer(conv->inputs[2]));
    const std::vector<float> b = ramp(static_cast<std::size_t>(co), 100.0f);
    ASSERT_EQ(bias.size(), static_cast<std::size_t>(co * s0 * s1 * s2));
    for (std::size_t k = 0; k < bias.size(); ++k)
        EXPECT_EQ(bias[k], b[k / static_cast<std::size_t>(s0 * s1 * s2)]);
}

TEST(OnnxRewrite, TheConvWeightsAreTheOriginalsPermutedBitForBit) {
    TransposeModel raw;
    raw.stride = {1, 2, 2};
    expect_weights_permuted(raw, rewrite(raw.bytes()));
    TransposeModel typed = raw;  // weights in float_data, one fixed32 per value
    typed.float_data = true;
    const Rewritten r = rewrite(typed.bytes());
    expect_weights_permuted(typed, r);
}

TEST(OnnxRewrite, EveryUntouchedFieldKeepsItsBytes) {
    const TransposeModel original;
    const Bytes before = original.bytes();
    const Rewritten r = rewrite(before);
    const Bytes& after = r.rewrite.bytes;
    // The header fields, the other nodes, the unrelated initializer, inputs and outputs.
    for (const Bytes& part :
         std::vector<Bytes>{testing::field_varint(1, 8) + field(2, std::string("test")) +
                                field(8, testing::field_varint(2, 17)),
                            field(1, node("Relu", {"x"}, {"hidden"}, {}, "relu")),
                            field(1, node("Sigmoid", {"up"}, {"y"}, {}, "sigmoid")),
                            field(5, float_tensor("unused", {2}, {7.0f, 8.0f})),
                            field(11, tensor_value("x", {-1, 3, -1, -1, -1})),
                            field(12, tensor_value("y", {-1, 2, -1, -1, -1}))}) {
        EXPECT_TRUE(contains(before, part));
        EXPECT_TRUE(contains(after, part));
    }
    // The replaced node and its weights are gone: nothing else reads them.
    EXPECT_FALSE(contains(after, field(1, original.up_node())));
    EXPECT_FALSE(contains(after, field(5, original.weight())));
    EXPECT_FALSE(contains(after, field(5, original.bias_tensor())));
    EXPECT_EQ(r.model.graph.initializer("up.weight"), nullptr);
}

TEST(OnnxRewrite, WeightsAnotherNodeReadsStay) {
    TransposeModel shared;
    const Bytes model = onnx_model(
        {node("Relu", {"x"}, {"hidden"}), shared.up_node(), node("Add", {"up", "up.bias"}, {"y"})},
        {shared.weight(), shared.bias_tensor()}, {tensor_value("x", {1, 3, 2, 2, 2})},
        {tensor_value("y", {1, 2, 4, 4, 4})});
    const Rewritten r = rewrite(model);
    ASSERT_TRUE(r.rewrite.changed());
    EXPECT_FALSE(contains(r.rewrite.bytes, field(5, shared.weight())));
    EXPECT_TRUE(contains(r.rewrite.bytes, field(5, shared.bias_tensor())));
}

TEST(OnnxRewrite, NewNamesNeverClashWithTheModels) {
    TransposeModel original;
    // A value already named as the rewrite would name its weights.
    const Bytes model =
        onnx_model({node("Relu", {"x"}, {"up.weight/as_1x1x1_conv"}),
                    node("Relu", {"up.weight/as_1x1x1_conv"}, {"hidden"}), original.up_node()},
                   {original.weight(), original.bias_tensor()},
                   {tensor_value("x", {1, 3, 2, 2, 2})}, {tensor_value("up", {1, 2, 4, 4, 4})});
    const Rewritten r = rewrite(model);
    ASSERT_TRUE(r.rewrite.changed());
    EXPECT_NE(r.model.graph.initializer("up.weight/as_1x1x1_conv_2"), nullptr);
    std::map<std::string, int> produced;
    for (const OnnxNode& n : r.model.graph.nodes)
        for (const std::string& o : n.outputs) EXPECT_EQ(++produced[o], 1) << o;
}

TEST(OnnxRewrite, OtherConvTransposeShapesStayWithTheReason) {
    const auto kept_reason = [](const TransposeModel& m) {
        auto result = rewrite_for_webgpu(m.bytes());
        EXPECT_TRUE(result);
        EXPECT_FALSE(result->changed());
        EXPECT_TRUE(result->bytes.empty());
        return result->kept.size() == 1 ? result->kept[0] : std::string("none");
    };
    TransposeModel monai;  // MONAI's up-sampling: kernel 3, stride 2, padding 1, output padding 1
    monai.kernel = {3, 3, 3};
    monai.extra_attributes = {attribute_ints("pads", {1, 1, 1, 1, 1, 1}),
                              attribute_ints("output_padding", {1, 1, 1})};
    EXPECT_EQ(kept_reason(monai),
              "ConvTranspose '/up/ConvTranspose' stays (kernel 3x3x3, stride 2x2x2); only kernel "
              "= stride, without padding, groups or dilation, becomes a 1x1x1 Conv");

    const auto with = [](Bytes attribute) {
        TransposeModel m;
        m.in_channels = m.out_channels = 2;
        m.extra_attributes = {std::move(attribute)};
        return m;
    };
    EXPECT_NE(
        kept_reason(with(attribute_ints("pads", {0, 0, 0, 1, 1, 1}))).find("(padding 0,0,0,1,1,1)"),
        std::string::npos);
    EXPECT_NE(kept_reason(with(attribute_ints("output_padding", {1, 0, 0})))
                  .find("(output padding 1,0,0)"),
              std::string::npos);
    EXPECT_NE(kept_reason(with(attribute_ints("dilations", {2, 2, 2}))).find("(dilations 2x2x2)"),
              std::string::npos);
    TransposeModel grouped = with(attribute_int("group", 2));
    grouped.out_channels = 1;  // 2 groups: weights [C_in, C_out / group, k...]
    EXPECT_NE(kept_reason(grouped).find("(group 2)"), std::string::npos);
    EXPECT_NE(kept_reason(with(testing::attribute_text("auto_pad", "SAME_UPPER")))
                  .find("(auto_pad SAME_UPPER)"),
              std::string::npos);
    EXPECT_NE(kept_reason(with(attribute_ints("output_shape", {4, 4, 4}))).find("output_shape"),
              std::string::npos);

    // Weights that arrive as a graph input cannot be permuted ahead of time.
    TransposeModel original;
    const Bytes weights_as_input = onnx_model(
        {original.up_node()}, {original.bias_tensor()},
        {tensor_value("hidden", {1, 3, 2, 2, 2}), tensor_value("up.weight", {3, 2, 2, 2, 2})},
        {tensor_value("up", {1, 2, 4, 4, 4})});
    auto result = rewrite_for_webgpu(weights_as_input);
    ASSERT_TRUE(result);
    ASSERT_EQ(result->kept.size(), 1u);
    EXPECT_NE(result->kept[0].find("(its weights are not an initializer)"), std::string::npos);
}

TEST(OnnxRewrite, RefusesWhatIsNotAnOnnxModelAndSurvivesEveryPrefix) {
    const Bytes not_onnx{'n', 'o', 't', ' ', 'o', 'n', 'n', 'x'};
    auto result = rewrite_for_webgpu(not_onnx);
    ASSERT_FALSE(result);
    EXPECT_NE(result.error().message.find("not a readable ONNX model"), std::string::npos);
    const Bytes model = TransposeModel{}.bytes();
    for (std::size_t n = 0; n < model.size(); ++n) {
        auto prefix = rewrite_for_webgpu(std::span(model.data(), n));
        if (prefix && prefix->changed()) {
            EXPECT_TRUE(read_onnx_model(prefix->bytes));
        }
    }
}

}  // namespace
}  // namespace cls::inference
