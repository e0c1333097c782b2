// The grid a network sees: an image whose spacing differs from the one the model was trained
// at (the manifest's `spacing_mm`) is resampled to that spacing before the sliding window, and
// its probabilities back to the image's own grid after, so labels, masks and certificates stay
// in source space. As nnU-Net does it:
//   - the model grid spans the same field of view: n_model = round(n * spacing / model spacing)
//     voxels per axis, voxel centres at (o + 0.5) * n / n_model - 0.5 in source voxels
//     (scipy's zoom with grid_mode=True, torch's align_corners=False), edges clamped;
//   - linear interpolation, axis by axis (trilinear, being separable); but when either grid is
//     strongly anisotropic (largest spacing more than 3 times the smallest) its thick axis is
//     kept separate, resampled by nearest neighbour, so thick slices are not smeared together;
//   - spacings within 0.1% of each other count as equal: no resampling.
// [X] linear and nearest per axis, both directions; probabilities stay in [0, 1] (a convex mix)
// [ ] cubic interpolation of the image (nnU-Net's order 3)
#pragma once

#include <array>
#include <span>
#include <vector>

#include "cls/volume.hpp"

namespace cls::inference {

struct ModelGrid {
    Dims source{};                  // the image's dimensions
    Dims model{};                   // at the model's spacing
    std::array<bool, 3> nearest{};  // per axis: the thick axis of an anisotropic grid

    // Whether the grids differ. With equal counts the mapping is the identity, even where the
    // spacings differ by less than half a voxel over the whole axis.
    [[nodiscard]] bool resamples() const { return source != model; }
};

// The model grid of an image of `dims` at `spacing` for a network trained at `model_spacing`
// (all in the NIfTI i, j, k order, mm).
[[nodiscard]] ModelGrid model_grid(const Dims& dims, const std::array<double, 3>& spacing,
                                   const std::array<double, 3>& model_spacing);

// Values on grid `from` (x fastest) resampled to grid `to`, which spans the same field of view,
// linearly along each axis but those marked `nearest`.
[[nodiscard]] std::vector<float> resample(std::span<const float> values, const Dims& from,
                                          const Dims& to, const std::array<bool, 3>& nearest);

}  // namespace cls::inference
