#include "cls/nnunet_probabilities.hpp"

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <string>

namespace cls {

Result<std::vector<Volume>> nnunet_probability_channels(const npy::Array& probabilities,
                                                        const Volume& reference) {
    const std::vector<std::int64_t>& shape = probabilities.shape;
    const std::string grid = grid_text(reference);
    if (shape.size() != 4) {
        return make_error("probabilities are " + npy::shape_text(shape) + ", a " +
                          std::to_string(shape.size()) +
                          "D array, but nnU-Net saves 4D arrays (classes, z, y, x); the "
                          "reference grid is " +
                          grid);
    }
    const Dims& dims = reference.dims();
    // nnU-Net's arrays are (C, z, y, x): the reference's x is the array's last axis.
    if (shape[3] != dims[0] || shape[2] != dims[1] || shape[1] != dims[2]) {
        return make_error("probabilities are " + npy::shape_text(shape) +
                          " (classes, z, y, x as nnU-Net saves them) but the reference grid is " +
                          grid);
    }
    if (shape[0] == 0)
        return make_error("probabilities have no classes (shape " + npy::shape_text(shape) + ")");
    const auto voxels = static_cast<std::size_t>(dims[0] * dims[1] * dims[2]);
    assert(probabilities.values.size() == static_cast<std::size_t>(shape[0]) * voxels);

    std::vector<Volume> channels;
    channels.reserve(static_cast<std::size_t>(shape[0]));
    for (std::int64_t c = 0; c < shape[0]; ++c) {
        Volume volume(dims, reference.affine());
        volume.set_spacing(reference.spacing());
        // In C order (c, z, y, x) the x index varies fastest, exactly like a Volume's own
        // x-fastest layout, so each channel is one contiguous block.
        const float* first = probabilities.values.data() + static_cast<std::size_t>(c) * voxels;
        std::copy(first, first + voxels, volume.values().begin());
        channels.push_back(std::move(volume));
    }
    return channels;
}

Result<Volume> read_nnunet_probability_map(std::span<const std::uint8_t> npy_bytes,
                                           const Volume& reference, const LesionChannels& choice) {
    auto array = npy::read(npy_bytes);
    if (!array) return array.error().in("probabilities.npy");
    auto channels = nnunet_probability_channels(*array, reference);
    if (!channels) return channels.error();
    return lesion_probability_map(std::move(*channels), choice, "nnU-Net's classes");
}

}  // namespace cls
