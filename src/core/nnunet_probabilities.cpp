#include "cls/nnunet_probabilities.hpp"

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>

#include "cls/reorientation.hpp"

namespace cls {

Result<NnunetArrayGrid> read_nnunet_plans(std::span<const std::uint8_t> json) {
    const auto plans = nlohmann::json::parse(json.begin(), json.end(), nullptr,
                                             /*allow_exceptions=*/false);
    if (!plans.is_object()) {
        return make_error("is not nnU-Net's plans.json: not a JSON object");
    }
    const auto reader = plans.find("image_reader_writer");
    const bool reorients = reader != plans.end() && reader->is_string() &&
                           reader->get<std::string>() == "NibabelIOWithReorient";
    return reorients ? NnunetArrayGrid::ras : NnunetArrayGrid::file;
}

Result<std::vector<Volume>> nnunet_probability_channels(const npy::Array& probabilities,
                                                        const Volume& reference,
                                                        NnunetArrayGrid grid) {
    const std::vector<std::int64_t>& shape = probabilities.shape;
    const std::string grid_shape = grid_text(reference);
    if (shape.size() != 4) {
        return make_error("probabilities are " + npy::shape_text(shape) + ", a " +
                          std::to_string(shape.size()) +
                          "D array, but nnU-Net saves 4D arrays (classes, z, y, x); the "
                          "reference grid is " +
                          grid_shape);
    }
    const Dims& dims = reference.dims();
    const Reorientation turn =
        grid == NnunetArrayGrid::ras ? closest_ras(reference.affine()) : Reorientation{};
    const Dims stored = turn.permuted(dims);
    // nnU-Net's arrays are (C, z, y, x): the grid's x is the array's last axis.
    if (shape[3] != stored[0] || shape[2] != stored[1] || shape[1] != stored[2]) {
        if (grid == NnunetArrayGrid::file) {
            return make_error("probabilities are " + npy::shape_text(shape) +
                              " (classes, z, y, x as nnU-Net saves them) but the reference "
                              "grid is " +
                              grid_shape);
        }
        return make_error("probabilities are " + npy::shape_text(shape) +
                          " (classes, z, y, x of the RAS-reoriented grid, as nnU-Net's "
                          "NibabelIOWithReorient saves them) but the reference grid is " +
                          grid_shape + ", " + std::to_string(stored[0]) + "x" +
                          std::to_string(stored[1]) + "x" + std::to_string(stored[2]) +
                          " reoriented");
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
        const std::span<const float> block(
            probabilities.values.data() + static_cast<std::size_t>(c) * voxels, voxels);
        if (turn.identity()) {
            std::copy(block.begin(), block.end(), volume.values().begin());
        } else {
            volume.values() = to_image_order(block, dims, turn);
        }
        channels.push_back(std::move(volume));
    }
    return channels;
}

Result<Volume> read_nnunet_probability_map(std::span<const std::uint8_t> npy_bytes,
                                           const Volume& reference, const LesionChannels& choice,
                                           NnunetArrayGrid grid) {
    auto array = npy::read(npy_bytes);
    if (!array) return array.error().in("probabilities.npy");
    auto channels = nnunet_probability_channels(*array, reference, grid);
    if (!channels) return channels.error();
    return lesion_probability_map(std::move(*channels), choice, "nnU-Net's classes");
}

}  // namespace cls
