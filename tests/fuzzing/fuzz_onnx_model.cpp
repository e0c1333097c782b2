// libFuzzer target for the ONNX reader (cls::inference::read_onnx_model_info), which walks a
// user's .onnx file's protobuf wire format before any runtime sees it, and for what the app
// does next with what it read: the WebGPU audit, a prefilled manifest, the fit check, the
// WebGPU rewrite (cls::inference::rewrite_for_webgpu), whose output must read back as a model
// with no rewritable node left, and the run's memory estimate (cls/inference/run_memory.hpp).
#include <cstddef>
#include <cstdint>

#include "cls/inference/model_manifest.hpp"
#include "cls/inference/onnx_model_info.hpp"
#include "cls/inference/onnx_rewrite.hpp"
#include "cls/inference/run_memory.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto rewrite = cls::inference::rewrite_for_webgpu({data, size});
    if (rewrite && rewrite->changed()) {
        const auto again = cls::inference::rewrite_for_webgpu(rewrite->bytes);
        if (!again || again->changed()) __builtin_trap();  // unreadable, or a rewrite left over
    }
    if (const auto graph = cls::inference::read_onnx_model({data, size})) {
        const std::int64_t patch[] = {1, 1, 16, 16, 16};
        const auto estimate =
            cls::inference::estimate_run_memory(cls::inference::memory_graph(*graph), patch);
        (void)cls::inference::check_run_memory(estimate, cls::inference::kOrtWebHeapBytes,
                                               "fuzz.onnx", patch);
    }
    const auto model = cls::inference::read_onnx_model_info({data, size});
    if (!model) return 0;
    (void)cls::inference::prepare_for_webgpu({data, size}, *model);
    const auto manifest = cls::inference::prefill_manifest(*model, "fuzz.onnx");
    (void)cls::inference::check_model_fits(manifest, *model);
    for (const auto& input : model->inputs) (void)cls::inference::shape_text(input.dims);
    return 0;
}
