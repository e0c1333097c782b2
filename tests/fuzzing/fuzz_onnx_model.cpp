// libFuzzer target for the ONNX reader (cls::inference::read_onnx_model_info), which walks a
// user's .onnx file's protobuf wire format before any runtime sees it, and for what the app
// does next with what it read: the WebGPU audit, a prefilled manifest, the fit check, and the
// WebGPU rewrite (cls::inference::rewrite_for_webgpu), whose output must read back as a model
// with no rewritable node left.
#include <cstddef>
#include <cstdint>

#include "cls/inference/model_manifest.hpp"
#include "cls/inference/onnx_model_info.hpp"
#include "cls/inference/onnx_rewrite.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto rewrite = cls::inference::rewrite_for_webgpu({data, size});
    if (rewrite && rewrite->changed()) {
        const auto again = cls::inference::rewrite_for_webgpu(rewrite->bytes);
        if (!again || again->changed()) __builtin_trap();  // unreadable, or a rewrite left over
    }
    const auto model = cls::inference::read_onnx_model_info({data, size});
    if (!model) return 0;
    (void)cls::inference::audit_for_webgpu(*model);
    const auto manifest = cls::inference::prefill_manifest(*model, "fuzz.onnx");
    (void)cls::inference::check_model_fits(manifest, *model);
    for (const auto& input : model->inputs) (void)cls::inference::shape_text(input.dims);
    return 0;
}
