// The ONNX reader on bytes it must refuse: our own minimal protobuf encodings of a model,
// truncated at every length, and files that are not ONNX at all. (Models written by the onnx
// package itself are read in test_onnx_model_info_reference.cpp.)

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "cls/inference/onnx_model_info.hpp"
#include "onnx_test_model.hpp"

namespace {

using namespace cls::inference;
using cls::testing::Bytes;
using cls::testing::field;
using cls::testing::field_varint;
using cls::testing::tiny_onnx_model;
using cls::testing::varint;

TEST(OnnxModelInfo, ReadsAHandEncodedModel) {
    auto model = read_onnx_model_info(tiny_onnx_model("image", "out", 8));
    ASSERT_TRUE(model.ok()) << model.error().message;
    EXPECT_EQ(model->ir_version, 8);
    EXPECT_EQ(model->opset, 17);
    ASSERT_EQ(model->inputs.size(), 1u);
    EXPECT_EQ(model->inputs[0].name, "image");
    EXPECT_EQ(shape_text(model->inputs[0].dims), "[1, 1, 8, 8, 8]");
    ASSERT_EQ(model->nodes.size(), 1u);
    EXPECT_EQ(model->nodes[0].op_type, "Relu");
}

TEST(OnnxModelInfo, EveryTruncationIsAnErrorNeverACrash) {
    const Bytes whole = tiny_onnx_model("image", "out", 8);
    for (std::size_t size = 0; size < whole.size(); ++size) {
        auto model = read_onnx_model_info({whole.data(), size});
        EXPECT_FALSE(model.ok()) << "truncated to " << size << " bytes";
    }
}

TEST(OnnxModelInfo, RefusesFilesThatAreNotOnnx) {
    const std::string nifti_like(348, '\0');
    auto model = read_onnx_model_info(
        {reinterpret_cast<const std::uint8_t*>(nifti_like.data()), nifti_like.size()});
    ASSERT_FALSE(model.ok());
    EXPECT_NE(model.error().message.find("ONNX"), std::string::npos);

    const std::string json = R"({"format": "cls-model/1"})";
    EXPECT_FALSE(
        read_onnx_model_info({reinterpret_cast<const std::uint8_t*>(json.data()), json.size()})
            .ok());
    // A length that runs past the end of the file.
    Bytes overlong = field_varint(1, 8);
    overlong.push_back((7 << 3) | 2);
    varint(overlong, 1u << 30);
    EXPECT_FALSE(read_onnx_model_info(overlong).ok());
}

}  // namespace
