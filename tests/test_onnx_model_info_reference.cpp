// Reading ONNX models as the onnx package writes them: tests/reference/make_onnx_fixtures.py
// saves small models (fixed and dynamic shapes, initializers listed as inputs, 3D
// ConvTranspose without kernel_shape, 3D MaxPool, nnU-Net's and MONAI's up-sampling) and records in
// expected.json what onnx says of them; read_onnx_model_info must agree, and the WebGPU audit must
// flag the right ops.

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "cls/inference/model_manifest.hpp"
#include "cls/inference/onnx_model_info.hpp"
#include "reference_fixtures.hpp"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;
using namespace cls::inference;

fs::path fixtures() { return cls::testing::reference_folder("onnx"); }

OnnxModelInfo read_fixture(const std::string& name) {
    auto model =
        read_onnx_model_info(cls::testing::read_reference_file(fixtures() / (name + ".onnx")));
    EXPECT_TRUE(model.ok()) << (model.ok() ? "" : model.error().message);
    return model.ok() ? *model : OnnxModelInfo{};
}

void expect_tensors(const std::vector<TensorInfo>& actual, const json& expected) {
    ASSERT_EQ(actual.size(), expected.size());
    for (std::size_t i = 0; i < actual.size(); ++i) {
        EXPECT_EQ(actual[i].name, expected[i].at("name"));
        EXPECT_EQ(actual[i].element_type, expected[i].at("element_type"));
        EXPECT_EQ(actual[i].dims, expected[i].at("dims").get<std::vector<std::int64_t>>());
    }
}

TEST(OnnxModelInfoReference, AgreesWithTheOnnxPackage) {
    const json expected = cls::testing::read_reference_json(fixtures() / "expected.json");
    ASSERT_EQ(expected.size(), 6u);
    for (const auto& [name, facts] : expected.items()) {
        SCOPED_TRACE(name);
        const OnnxModelInfo model = read_fixture(name);
        EXPECT_EQ(model.ir_version, facts.at("ir_version"));
        EXPECT_EQ(model.opset, facts.at("opset"));
        expect_tensors(model.inputs, facts.at("inputs"));
        expect_tensors(model.outputs, facts.at("outputs"));
        std::vector<std::string> ops;
        for (const NodeInfo& node : model.nodes) ops.push_back(node.op_type);
        EXPECT_EQ(ops, facts.at("op_types").get<std::vector<std::string>>());
    }
}

TEST(OnnxModelInfoReference, AuditFlags3dConvTransposeAndNotes3dPooling) {
    EXPECT_TRUE(audit_for_webgpu(read_fixture("fixed_conv")).webgpu_ok());
    EXPECT_TRUE(audit_for_webgpu(read_fixture("fixed_conv")).notes.empty());

    // Its kernel rank comes from the weights: the node has no kernel_shape.
    const WebGpuAudit transpose = audit_for_webgpu(read_fixture("transpose3d"));
    ASSERT_EQ(transpose.blocking.size(), 1u);
    EXPECT_NE(transpose.blocking[0].find("ConvTranspose"), std::string::npos);

    const WebGpuAudit pool = audit_for_webgpu(read_fixture("maxpool3d"));
    EXPECT_TRUE(pool.webgpu_ok());
    ASSERT_EQ(pool.notes.size(), 1u);
    EXPECT_NE(pool.notes[0].find("NCHW"), std::string::npos);
}

TEST(OnnxModelInfoReference, ManifestFitsOrSaysWhichShapeDoesNot) {
    const OnnxModelInfo fixed = read_fixture("fixed_conv");
    ModelManifest manifest = prefill_manifest(fixed, "fixed_conv.onnx");
    EXPECT_EQ(manifest.input_name, "image");
    EXPECT_EQ(manifest.output_name, "probability");
    EXPECT_EQ(manifest.patch_size, (std::array<std::int64_t, 3>{32, 32, 32}));
    EXPECT_TRUE(check_model_fits(manifest, fixed).ok());

    manifest.patch_size = {48, 48, 48};
    auto misfit = check_model_fits(manifest, fixed);
    ASSERT_FALSE(misfit.ok());
    EXPECT_EQ(misfit.error().message,
              "tensor 'image' has shape [1, 1, 32, 32, 32] but the manifest expects "
              "[1, 1, 48, 48, 48]");

    // A dynamic model takes any patch; initializers listed as inputs are not inputs.
    const OnnxModelInfo dynamic = read_fixture("dynamic_conv");
    ASSERT_EQ(dynamic.inputs.size(), 1u);
    EXPECT_TRUE(check_model_fits(manifest, dynamic).ok());
    manifest.input_name = "t1";
    EXPECT_EQ(check_model_fits(manifest, dynamic).error().message,
              "the model has no input named 't1'");
    // A model with several outputs (deep supervision) is read through the one the manifest
    // names; a name it lacks is refused with the names it has.
    manifest.input_name = "image";
    manifest.output_name = "seg_level_1";
    EXPECT_EQ(check_model_fits(manifest, dynamic).error().message,
              "the model has no output named 'seg_level_1' (its outputs: '" +
                  dynamic.outputs.front().name + "')");
}

}  // namespace
