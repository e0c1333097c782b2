// The axis order a network was trained in. Volumes reach the core in their file's own voxel
// order (the NIfTI i, j, k), which is what nnU-Net's networks see too: SimpleITK's arrays are
// that order reversed, (z, y, x), exactly the [D, H, W] tensor the sliding window feeds. MONAI
// pipelines usually reorient to RAS+ first (Orientation("RAS"); nibabel's as_closest_canonical):
// their networks expect the voxel axes closest to the world's R, A and S, in that order and
// direction. A manifest says which (`axis_order`: "stored" or "ras"); for "ras" the core
// permutes and flips the image's voxels to that order before the network and back after, an
// exact rearrangement, so the probabilities stay on the image's own grid.
// [X] stored (nnU-Net, and the default), RAS+ (closest canonical, from the affine as nibabel
//     reads it)
// [ ] LPS+ and other named orders
#pragma once

#include <string_view>

#include "cls/enum_names.hpp"
#include "cls/reorientation.hpp"
#include "cls/result.hpp"
#include "cls/volume.hpp"

namespace cls::inference {

enum class AxisOrder { stored, ras };
inline constexpr EnumTable<AxisOrder, 2> kAxisOrderNames{
    {{AxisOrder::stored, "stored"}, {AxisOrder::ras, "ras"}}};
[[nodiscard]] std::string_view to_string(AxisOrder order);
[[nodiscard]] Result<AxisOrder> parse_axis_order(std::string_view text);

// The rearrangement a network's order asks of an image (cls/reorientation.hpp): none for
// `stored`, the closest RAS+ axes for `ras`.
[[nodiscard]] Reorientation reorientation_for(AxisOrder order, const Affine& voxel_to_world);

}  // namespace cls::inference
