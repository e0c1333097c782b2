// rewrite_for_webgpu on models the onnx package wrote (tests/reference/make_onnx_fixtures.py):
// nnU-Net's up-sampling (ConvTranspose, kernel = stride (1, 2, 2)) becomes a 1x1x1 Conv whose
// weights and bias equal, bit for bit, what numpy computes from the definition; MONAI's (kernel
// 3, stride 2, padding 1, output padding 1) stays and keeps the WebGPU audit's refusal.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cls/inference/onnx_graph.hpp"
#include "cls/inference/onnx_model_info.hpp"
#include "cls/inference/onnx_rewrite.hpp"
#include "reference_fixtures.hpp"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;
using namespace cls::inference;

fs::path fixtures() { return cls::testing::reference_folder("onnx"); }

std::vector<float> floats_of(const OnnxInitializer& t) {
    std::vector<float> values(t.raw_data.size() / 4);
    std::memcpy(values.data(), t.raw_data.data(), values.size() * 4);
    return values;
}

TEST(OnnxRewriteReference, NnUnetUpsamplingWeightsAreNumpysPermutation) {
    const json expected = cls::testing::read_reference_json(fixtures() / "expected.json")
                              .at("upsample_nnunet")
                              .at("rewrite");
    auto rewrite =
        rewrite_for_webgpu(cls::testing::read_reference_file(fixtures() / "upsample_nnunet.onnx"));
    ASSERT_TRUE(rewrite.ok()) << rewrite.error().message;
    ASSERT_TRUE(rewrite->changed());
    auto model = read_onnx_model(rewrite->bytes);
    ASSERT_TRUE(model.ok()) << model.error().message;
    const OnnxNode& conv = model->graph.nodes.front();
    ASSERT_EQ(conv.op_type, "Conv");
    const OnnxInitializer* weight = model->graph.initializer(conv.inputs.at(1));
    const OnnxInitializer* bias = model->graph.initializer(conv.inputs.at(2));
    ASSERT_TRUE(weight && bias);
    EXPECT_EQ(weight->dims, expected.at("weight_dims").get<std::vector<std::int64_t>>());
    // numpy's float32 values went through JSON as doubles, which hold them exactly.
    EXPECT_EQ(floats_of(*weight), expected.at("weight").get<std::vector<float>>());
    EXPECT_EQ(floats_of(*bias), expected.at("bias").get<std::vector<float>>());
    EXPECT_TRUE(audit_for_webgpu(*read_onnx_model_info(rewrite->bytes)).webgpu_ok());
}

TEST(OnnxRewriteReference, MonaiUpsamplingStaysAndStillBlocksWebGpu) {
    const auto bytes = cls::testing::read_reference_file(fixtures() / "upsample_monai.onnx");
    auto rewrite = rewrite_for_webgpu(bytes);
    ASSERT_TRUE(rewrite.ok());
    EXPECT_FALSE(rewrite->changed());
    ASSERT_EQ(rewrite->kept.size(), 1u);
    EXPECT_NE(rewrite->kept[0].find("'up' stays (kernel 3x3x3, stride 2x2x2)"), std::string::npos)
        << rewrite->kept[0];
    EXPECT_FALSE(audit_for_webgpu(*read_onnx_model_info(bytes)).webgpu_ok());
}

}  // namespace
