// estimate_run_memory on hand-encoded graphs whose every tensor size is worked out by hand in
// the comments, and check_run_memory's refusal; tests/test_run_memory_reference.cpp checks
// the shapes it follows against onnx's own shape inference on torch-exported networks.
#include <gtest/gtest.h>

#include <cstring>

#include "cls/inference/onnx_graph.hpp"
#include "cls/inference/onnx_rewrite.hpp"
#include "cls/inference/run_memory.hpp"
#include "onnx_test_model.hpp"

namespace cls::inference {
namespace {

using testing::attribute_int;
using testing::attribute_ints;
using testing::Bytes;
using testing::float_tensor;
using testing::node;
using testing::onnx_model;
using testing::tensor_value;
using Dims = std::vector<std::int64_t>;

Bytes int64_tensor(const std::string& name, const Dims& values) {
    Bytes raw(values.size() * 8);
    std::memcpy(raw.data(), values.data(), raw.size());
    using testing::field;
    using testing::field_varint;
    using testing::operator+;
    return field_varint(1, values.size()) + field_varint(2, 7) + field(8, name) + field(9, raw);
}

std::vector<float> zeros(std::size_t n) { return std::vector<float>(n, 0.0f); }

RunMemoryEstimate estimate(const Bytes& bytes, const Dims& input) {
    auto model = read_onnx_model(bytes);
    EXPECT_TRUE(model) << (model ? "" : model.error().message);
    return estimate_run_memory(memory_graph(*model), input);
}

// x [1,1,16³] -> Conv 3³ pad 1 -> h1 [1,4,16³] -> Conv 3³ stride 2 pad 1 -> h2 [1,8,8³]
// -> ConvTranspose 2³ stride 2 -> h3 [1,4,16³] -> Concat(h3, h1) [1,8,16³] -> Conv 1³ -> y.
Bytes small_unet() {
    return onnx_model(
        {node("Conv", {"x", "w1"}, {"h1"}, {attribute_ints("pads", {1, 1, 1, 1, 1, 1})}, "c1"),
         node("Conv", {"h1", "w2"}, {"h2"},
              {attribute_ints("pads", {1, 1, 1, 1, 1, 1}), attribute_ints("strides", {2, 2, 2})},
              "down"),
         node("ConvTranspose", {"h2", "w3"}, {"h3"}, {attribute_ints("strides", {2, 2, 2})}, "up"),
         node("Concat", {"h3", "h1"}, {"cat"}, {attribute_int("axis", 1)}, "cat"),
         node("Conv", {"cat", "w4", "b4"}, {"y"}, {}, "head")},
        {float_tensor("w1", {4, 1, 3, 3, 3}, zeros(108)),
         float_tensor("w2", {8, 4, 3, 3, 3}, zeros(864)),
         float_tensor("w3", {8, 4, 2, 2, 2}, zeros(256)),
         float_tensor("w4", {1, 8, 1, 1, 1}, zeros(8)), float_tensor("b4", {1}, zeros(1))},
        {tensor_value("x", {1, 1, -1, -1, -1})}, {tensor_value("y", {1, 1, -1, -1, -1})});
}

TEST(RunMemory, FollowsShapesAndLivenessThroughAUNet) {
    const RunMemoryEstimate e = estimate(small_unet(), {1, 1, 16, 16, 16});
    // (108 + 864 + 256 + 8 + 1) floats.
    EXPECT_EQ(e.weight_bytes, 1237u * 4);
    // Bytes: x 16384, h1 65536, h2 16384, h3 65536, cat 131072, y 16384. At the Concat, h1
    // and h3 (read by it) and cat are alive: 262144. At the ConvTranspose: h1 + h2 + h3 and
    // its column buffer (4 x 8 taps x 512 input voxels x 4 bytes = 65536): 212992.
    EXPECT_EQ(e.peak_activation_bytes, 262144u);
    EXPECT_EQ(e.peak_node, "cat");
    EXPECT_EQ(e.largest_tensor, "cat");
    EXPECT_EQ(e.largest_tensor_bytes, 131072u);
    EXPECT_EQ(e.guessed, 0u);
    // Twice the edge, eight times the voxels.
    EXPECT_EQ(estimate(small_unet(), {1, 1, 32, 32, 32}).peak_activation_bytes, 8u * 262144);
}

TEST(RunMemory, TheRewrittenModelsShapeArithmeticIsFollowed) {
    // The core's WebGPU rewrite computes its reshapes with Shape, Concat, Gather and Mul.
    auto rewrite = rewrite_for_webgpu(small_unet());
    ASSERT_TRUE(rewrite && rewrite->changed());
    const RunMemoryEstimate e = estimate(rewrite->bytes, {1, 1, 16, 16, 16});
    EXPECT_EQ(e.guessed, 0u);
    EXPECT_EQ(e.largest_tensor_bytes, 131072u);
    // The 1x1x1 Conv's [1, 32, 8³] output (65536) stands in for the column buffer; the
    // depth-to-space copies add a transposed copy of it at each step.
    EXPECT_EQ(e.peak_activation_bytes, 262144u);
}

TEST(RunMemory, ResizeSizesComputedAsTorchExportsThem) {
    // sizes = Concat([1, 2], Shape(x)[2:5] * 2), as torch writes interpolate(scale_factor=2).
    const Bytes model = onnx_model(
        {node("Shape", {"x"}, {"shape"}), node("Slice", {"shape", "starts", "ends"}, {"spatial"}),
         node("Mul", {"spatial", "two"}, {"doubled"}),
         node("Concat", {"batch_channels", "doubled"}, {"sizes"}, {attribute_int("axis", 0)}),
         node("Resize", {"x", "", "", "sizes"}, {"up"},
              {testing::attribute_text("mode", "linear")}),
         node("Sigmoid", {"up"}, {"y"})},
        {int64_tensor("starts", {2}), int64_tensor("ends", {5}), int64_tensor("two", {2}),
         int64_tensor("batch_channels", {1, 2})},
        {tensor_value("x", {1, 2, -1, -1, -1})}, {tensor_value("y", {1, 2, -1, -1, -1})});
    const RunMemoryEstimate e = estimate(model, {1, 2, 4, 6, 8});
    EXPECT_EQ(e.guessed, 0u);
    // up [1, 2, 8, 12, 16] = 3072 floats; x (1536 bytes) is read last by Resize, so at the
    // Sigmoid only up and y are alive.
    EXPECT_EQ(e.largest_tensor_bytes, 3072u * 4);
    EXPECT_EQ(e.peak_activation_bytes, 2u * 3072 * 4);
    EXPECT_EQ(e.peak_node, "Sigmoid");
}

TEST(RunMemory, AnOpItDoesNotKnowGetsTheLargestInputsShapeAndIsCounted) {
    const Bytes model =
        onnx_model({node("MysteryOp", {"x"}, {"y"})}, {}, {tensor_value("x", {1, 1, -1, -1, -1})},
                   {tensor_value("y", {1, 1, -1, -1, -1})});
    const RunMemoryEstimate e = estimate(model, {1, 1, 8, 8, 8});
    EXPECT_EQ(e.guessed, 1u);
    EXPECT_EQ(e.peak_activation_bytes, 2u * 512 * 4);
}

TEST(RunMemory, CheckRefusesWithTheNumbersAndPassesWhatFits) {
    RunMemoryEstimate e;
    e.weight_bytes = std::uint64_t{100} << 20;
    e.peak_activation_bytes = std::uint64_t{3} << 30;
    e.peak_node = "/decoder/Concat";
    const Dims patch{1, 4, 128, 128, 128};
    // (3 x 100 MiB + 3 GiB) x 5/4 = 4215 MiB, 4.12 GiB: over ONNX Runtime Web's 4 GiB.
    EXPECT_EQ(runtime_heap_bytes(e), std::uint64_t{4215} << 20);
    const Status refused = check_run_memory(e, kOrtWebHeapBytes, "models/nnunet.onnx", patch);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().message,
              "models/nnunet.onnx: a run on a 128x128x128 patch needs about 4.2 GiB (weights "
              "100 MiB, activations 3.0 GiB at their peak, at '/decoder/Concat'), more than the "
              "4.0 GiB ONNX Runtime Web can hold in a tab; use a smaller patch_size in the "
              "manifest, or run scripts/infer.mjs outside the browser");
    e.peak_activation_bytes = std::uint64_t{2} << 30;
    EXPECT_TRUE(check_run_memory(e, kOrtWebHeapBytes, "models/nnunet.onnx", patch));
}

TEST(RunMemory, HostileShapesSaturateInsteadOfOverflowing) {
    const RunMemoryEstimate e = estimate(small_unet(), {1, 1, 1 << 20, 1 << 20, 1 << 20});
    EXPECT_GT(e.peak_activation_bytes, std::uint64_t{1} << 60);
    EXPECT_FALSE(check_run_memory(e, kOrtWebHeapBytes, "m.onnx", Dims{1, 1, 1, 1, 1}));
}

}  // namespace
}  // namespace cls::inference
