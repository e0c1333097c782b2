// estimate_run_memory on torch-exported networks (nnU-Net's PlainConvUNet and a MONAI-style
// residual UNet) against tests/reference/run_memory_golden.py, which takes every tensor's
// shape from onnx's own shape inference and applies run_memory.hpp's definition once more.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cls/inference/onnx_graph.hpp"
#include "cls/inference/run_memory.hpp"
#include "cls/io/file.hpp"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;
using namespace cls::inference;

fs::path fixtures() {
    const char* dir = std::getenv("CLS_REFERENCE_DIR");
    return fs::path(dir ? dir : ".") / "run_memory";
}

TEST(RunMemoryReference, AgreesWithOnnxShapeInferenceOnTorchExports) {
    auto text = cls::io::read_file(fixtures() / "expected.json");
    ASSERT_TRUE(text.ok()) << "run the reference fixture step first";
    const json expected = json::parse(text->begin(), text->end());
    ASSERT_EQ(expected.size(), 2u);
    for (const auto& [name, facts] : expected.items()) {
        SCOPED_TRACE(name);
        auto bytes = cls::io::read_file(fixtures() / (name + ".onnx"));
        ASSERT_TRUE(bytes.ok());
        auto model = read_onnx_model(*bytes);
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
