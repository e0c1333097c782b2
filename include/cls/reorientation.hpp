// Voxel axes rearranged: the axes of a volume's voxel grid closest to the world's R, A and S
// (NIfTI's RAS+ frame), read from its affine exactly as nibabel's io_orientation reads them,
// and a volume's values moved to that order and back, an exact rearrangement. Networks trained
// in RAS+ order (MONAI's Orientation("RAS"), nibabel's as_closest_canonical) see their input
// this way (cls/inference/axis_order.hpp), and nnU-Net's NibabelIOWithReorient saves its
// probabilities this way (cls/nnunet_probabilities.hpp).
// [X] RAS+ from any affine, oblique ones as nibabel decides them (polar decomposition first)
// [ ] other named orders (LPS+)
#pragma once

#include <array>
#include <span>
#include <vector>

#include "cls/volume.hpp"

namespace cls {

// How the rearranged axes come from the volume's: rearranged axis a is the volume's axis
// `from[a]`, reversed when `reversed[a]`.
struct Reorientation {
    std::array<int, 3> from{0, 1, 2};
    std::array<bool, 3> reversed{};

    [[nodiscard]] bool identity() const {
        return from == std::array<int, 3>{0, 1, 2} && reversed == std::array<bool, 3>{};
    }
    // The dimensions, or spacings, of the volume in the rearranged order.
    template <class T>
    [[nodiscard]] std::array<T, 3> permuted(const std::array<T, 3>& image) const {
        return {image[static_cast<std::size_t>(from[0])], image[static_cast<std::size_t>(from[1])],
                image[static_cast<std::size_t>(from[2])]};
    }
};

// The voxel axes of `voxel_to_world` closest to R, A and S, each pointing their way, as
// nibabel.orientations.io_orientation finds them: the affine's rotation (the polar factor of
// its spacing-free part), then each voxel axis in turn takes the world axis it moves along most
// among those not yet taken.
[[nodiscard]] Reorientation closest_ras(const Affine& voxel_to_world);

// The volume's values (dimensions `image`, x fastest) in the rearranged order, and back.
[[nodiscard]] std::vector<float> to_network_order(std::span<const float> values, const Dims& image,
                                                  const Reorientation& r);
[[nodiscard]] std::vector<float> to_image_order(std::span<const float> values, const Dims& image,
                                                const Reorientation& r);

}  // namespace cls
