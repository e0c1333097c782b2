// libFuzzer target for the model manifest reader (cls::inference::parse_model_manifest), the
// JSON a user loads beside their own .onnx in the browser or gives scripts/infer.mjs.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cls/inference/model_manifest.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto manifest = cls::inference::parse_model_manifest(text);
    // What parses must validate, serialise and read back.
    if (manifest && (!cls::inference::validate(*manifest) ||
                     !cls::inference::parse_model_manifest(cls::inference::to_json(*manifest)))) {
        __builtin_trap();
    }
    return 0;
}
