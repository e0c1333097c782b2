// libFuzzer target for the .npy parser and nnU-Net's channel split: header, then the whole
// array, then the split against a small reference grid (2x3x4, so (C, 4, 3, 2) arrays reach
// it). Must return an error or a value for any input; never crash, hang, or allocate more than
// the bytes justify (the data size is checked against the byte count first).
#include <cstddef>
#include <cstdint>
#include <span>

#include "cls/nnunet_probabilities.hpp"
#include "cls/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> bytes(data, size);
    const auto header = cls::npy::read_header(bytes);
    const auto array = cls::npy::read(bytes);
    if (!array) return 0;
    // An array that parses had a parseable header whose shape it keeps.
    if (!header || header->shape != array->shape) __builtin_trap();
    static const cls::Volume reference(cls::Dims{2, 3, 4}, cls::Affine::Identity());
    const auto channels = cls::nnunet_probability_channels(*array, reference);
    if (channels) {
        if (channels->size() * reference.voxel_count() != array->values.size()) __builtin_trap();
        for (const cls::Volume& channel : *channels) {
            if (channel.dims() != reference.dims()) __builtin_trap();
        }
    }
    return 0;
}
