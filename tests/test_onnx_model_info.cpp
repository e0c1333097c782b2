// The ONNX reader on bytes it must refuse: our own minimal protobuf encodings of a model,
// truncated at every length, and files that are not ONNX at all. (Models written by the onnx
// package itself are read in test_onnx_model_info_reference.cpp.)

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "cls/inference/onnx_model_info.hpp"

namespace {

using namespace cls::inference;
using Bytes = std::vector<std::uint8_t>;

void varint(Bytes& out, std::uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<std::uint8_t>(v | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<std::uint8_t>(v));
}
Bytes field(std::uint32_t number, const Bytes& payload) {
    Bytes out;
    varint(out, (number << 3) | 2);
    varint(out, payload.size());
    out.insert(out.end(), payload.begin(), payload.end());
    return out;
}
Bytes field(std::uint32_t number, const std::string& text) {
    return field(number, Bytes(text.begin(), text.end()));
}
Bytes field_varint(std::uint32_t number, std::uint64_t v) {
    Bytes out;
    varint(out, number << 3);
    varint(out, v);
    return out;
}
Bytes operator+(Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// ValueInfoProto{name, TypeProto{Tensor{elem_type 1, shape [1, 1, n, n, n]}}}.
Bytes value_info(const std::string& name, std::int64_t n) {
    Bytes shape;
    for (std::int64_t d : {std::int64_t{1}, std::int64_t{1}, n, n, n})
        shape = shape + field(1, field_varint(1, static_cast<std::uint64_t>(d)));
    const Bytes tensor = field_varint(1, 1) + field(2, shape);
    return field(1, name) + field(2, field(1, tensor));
}

Bytes tiny_model() {
    const Bytes node = field(1, std::string("image")) + field(2, std::string("out")) +
                       field(4, std::string("Relu"));
    const Bytes graph =
        field(1, node) + field(11, value_info("image", 8)) + field(12, value_info("out", 8));
    // The graph goes last, so every proper prefix lacks it or cuts it short.
    return field_varint(1, 8) + field(8, field_varint(2, 17)) + field(7, graph);
}

TEST(OnnxModelInfo, ReadsAHandEncodedModel) {
    auto model = read_onnx_model_info(tiny_model());
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
    const Bytes whole = tiny_model();
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
