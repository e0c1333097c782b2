// libFuzzer target for the calibration certificate reader (cls::parse_certificate), the JSON
// that `cls apply` and the browser app import. (Model manifests have fuzz_model_manifest.)
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cls/certificate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto certificate = cls::parse_certificate(text);
    // What parses must serialise and read back.
    if (certificate && !cls::parse_certificate(cls::to_json(*certificate))) __builtin_trap();
    return 0;
}
