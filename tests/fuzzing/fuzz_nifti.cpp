// libFuzzer target for the NIfTI parser on raw (uncompressed) bytes: the header alone, then the
// whole file. Both must return an error or a volume for any input; never crash, hang or
// allocate more than the bytes justify (the data size is checked against the byte count).
#include <cstddef>
#include <cstdint>
#include <span>

#include "cls/nifti.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> bytes(data, size);
    const auto header = cls::nifti::read_header(bytes);
    const auto image = cls::nifti::read(bytes);
    // A file that parses must have had a parseable header, with the same declared size.
    if (image && (!header || header->data_bytes != image->header.data_bytes)) __builtin_trap();
    return 0;
}
