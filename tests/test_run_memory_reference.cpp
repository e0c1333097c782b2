// estimate_run_memory on torch-exported networks (nnU-Net's PlainConvUNet and a MONAI-style
// residual UNet) against tests/reference/run_memory_golden.py, which takes every tensor's
// shape from onnx's own shape inference and applies run_memory.hpp's definition once more.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "cls/inference/onnx_graph.hpp"
#include "cls/inference/run_memory.hpp"
#include "reference_fixtures.hpp"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;
using namespace cls::inference;

fs::path fixtures() { return cls::testing::reference_folder("run_memory"); }

TEST(RunMemoryReference, AgreesWithOnnxShapeInferenceOnTorchExports) {
    const json expected = cls::testing::read_reference_json(fixtures() / "expected.json");
    ASSERT_EQ(expected.size(), 2u);
    for (const auto& [name, facts] : expected.items()) {
        SCOPED_TRACE(name);
        // The model views these bytes: they outlive it.
        const auto bytes = cls::testing::read_reference_file(fixtures() / (name + ".onnx"));
        auto model = read_onnx_model(bytes);
        ASSERT_TRUE(model.ok()) << model.error().message;
        const auto input = facts.at("input").get<std::vector<std::int64_t>>();
        const RunMemoryEstimate e = estimate_run_memory(memory_graph(*model), input);
        EXPECT_EQ(e.guessed, 0u);
        EXPECT_EQ(e.weight_bytes, facts.at("weight_bytes").get<std::uint64_t>());
        EXPECT_EQ(e.peak_activation_bytes, facts.at("peak_activation_bytes").get<std::uint64_t>());
        EXPECT_EQ(e.peak_node, facts.at("peak_node"));
        EXPECT_EQ(e.largest_tensor_bytes, facts.at("largest_tensor_bytes").get<std::uint64_t>());
        EXPECT_EQ(e.largest_tensor, facts.at("largest_tensor"));
    }
}

}  // namespace
