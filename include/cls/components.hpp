// Connected components of a binary 3D mask with 26-connectivity (faces, edges and corners),
// the usual definition of "a lesion" for lesion-wise detection metrics.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "cls/volume.hpp"

namespace cls {

struct Components {
    std::int32_t count = 0;
    std::vector<std::int32_t> labels;  // 0 = background, 1..count = component id, per voxel
};

// `mask` holds one byte per voxel of a grid with `dims` (non-zero = foreground).
[[nodiscard]] Components label_components(std::span<const std::uint8_t> mask, const Dims& dims);

}  // namespace cls
