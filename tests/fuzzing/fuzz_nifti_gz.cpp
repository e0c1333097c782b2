// libFuzzer target for the .nii.gz path that `cls::io::load_nifti` takes once the file is
// read (cls::io::parse_nifti_file): gunzip the header, bound the inflation by its declared
// size, parse. Random bytes are rarely a valid gzip stream, so the first byte picks the mode:
// odd, the rest is gzip-compressed here first (a valid stream around any content, which
// reaches the NIfTI parser); even, the rest is used as is (corrupt and hostile streams,
// gzip bombs).
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "cls/io/file.hpp"
#include "cls/io/gzip.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::span<const std::uint8_t> rest(data + 1, size - 1);
    if ((data[0] & 1) != 0) {
        const std::vector<std::uint8_t> compressed = cls::io::gzip(rest, 1);
        (void)cls::io::parse_nifti_file(compressed);
    } else {
        (void)cls::io::parse_nifti_file(rest);
    }
    return 0;
}
