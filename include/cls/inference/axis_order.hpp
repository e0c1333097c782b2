// The axis order a network was trained in. Volumes reach the core in their file's own voxel
// order (the NIfTI i, j, k), which is what nnU-Net's networks see too: SimpleITK's arrays are
// that order reversed, (z, y, x), exactly the [D, H, W] tensor the sliding window feeds. MONAI
// pipelines usually reorient to RAS+ first (Orientation("RAS"); nibabel's as_closest_canonical):
// their networks expect the voxel axes closest to the world's R, A and S, in that order and
// direction. A manifest says which (`axis_order`: "stored" or "ras"); for "ras" the core
// permutes and flips the image's voxels to that order before the network and back after, an
// exact rearrangement, so the probabilities stay on the image's own grid.
// [X] stored (nnU-Net, and the default), RAS+ (closest canonical, from the affine)
// [ ] LPS+ and other named orders
#pragma once

#include <array>
#include <span>
#include <string_view>
#include <vector>

#include "cls/enum_names.hpp"
#include "cls/result.hpp"
#include "cls/volume.hpp"

namespace cls::inference {

enum class AxisOrder { stored, ras };
inline constexpr EnumTable<AxisOrder, 2> kAxisOrderNames{
    {{AxisOrder::stored, "stored"}, {AxisOrder::ras, "ras"}}};
[[nodiscard]] std::string_view to_string(AxisOrder order);
[[nodiscard]] Result<AxisOrder> parse_axis_order(std::string_view text);

// How the network's axes come from the image's: network axis a is image axis `from[a]`,
// reversed when `reversed[a]`.
struct Reorientation {
    std::array<int, 3> from{0, 1, 2};
    std::array<bool, 3> reversed{};

    [[nodiscard]] bool identity() const {
        return from == std::array<int, 3>{0, 1, 2} && reversed == std::array<bool, 3>{};
    }
    // The dimensions, or spacings, of the image in the network's order.
    template <class T>
    [[nodiscard]] std::array<T, 3> permuted(const std::array<T, 3>& image) const {
        return {image[static_cast<std::size_t>(from[0])], image[static_cast<std::size_t>(from[1])],
                image[static_cast<std::size_t>(from[2])]};
    }
};

// The voxel axes of `voxel_to_world` closest to R, A and S (world axes 0, 1, 2 of NIfTI's
// RAS+ frame), each pointing their way: every voxel axis goes to the world axis it is most
// aligned with, the strongest alignment chosen first (as nibabel's io_orientation).
[[nodiscard]] Reorientation closest_ras(const Affine& voxel_to_world);
[[nodiscard]] Reorientation reorientation_for(AxisOrder order, const Affine& voxel_to_world);

// The image's values (dimensions `image`, x fastest) in the network's order, and back.
[[nodiscard]] std::vector<float> to_network_order(std::span<const float> values, const Dims& image,
                                                  const Reorientation& r);
[[nodiscard]] std::vector<float> to_image_order(std::span<const float> values, const Dims& image,
                                                const Reorientation& r);

}  // namespace cls::inference
