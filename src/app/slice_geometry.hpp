// How a volume stored in any voxel order is shown in the three standard views, in world
// orientation as 3D Slicer, ITK-SNAP and NiiVue show it: each view's screen axes follow world
// (RAS+) axes, whatever axis order and flips the file used. The voxel axis closest to each
// world axis is found once from the affine (as nibabel's io_orientation does), so the slice is
// a plain strided walk through the stored voxels, with no resampling.
//   axial:    screen x = R-L, screen y = A-P (anterior up)
//   coronal:  screen x = R-L, screen y = S-I (superior up)
//   sagittal: screen x = A-P (anterior left), screen y = S-I (superior up)
// Radiological convention puts the patient's right on the screen's left; neurological the
// reverse. Oblique affines are shown on the nearest axes (no reslicing), as the CLI keeps them.
#pragma once

#include <array>
#include <cstdint>

#include "cls/volume.hpp"

namespace cls::app {

enum class View { axial = 0, coronal = 1, sagittal = 2 };
inline constexpr std::array<View, 3> kViews{View::axial, View::coronal, View::sagittal};
const char* view_name(View view);

// For each world axis (0 = x towards Right, 1 = y towards Anterior, 2 = z towards Superior):
// the voxel axis that runs along it and whether voxel indices grow against it.
struct WorldAxes {
    std::array<int, 3> voxel_axis{0, 1, 2};
    std::array<bool, 3> reversed{false, false, false};
};
[[nodiscard]] WorldAxes world_axes(const Affine& voxel_to_world);

using Voxel = std::array<std::int64_t, 3>;

// One view of one volume grid: which voxel each screen pixel shows.
class SliceGeometry {
public:
    SliceGeometry(const Volume& grid, View view, bool radiological);

    [[nodiscard]] int width() const { return width_; }
    [[nodiscard]] int height() const { return height_; }
    // Physical size of one screen pixel, so views keep the anatomy's proportions.
    [[nodiscard]] double pixel_width_mm() const { return pixel_mm_[0]; }
    [[nodiscard]] double pixel_height_mm() const { return pixel_mm_[1]; }
    // The voxel axis this view slices through, and its number of slices.
    [[nodiscard]] int normal_axis() const { return normal_axis_; }
    [[nodiscard]] std::int64_t slice_count() const { return slice_count_; }

    // The voxel under screen pixel (column, row) of the slice through `cursor`.
    [[nodiscard]] Voxel voxel_at(int column, int row, const Voxel& cursor) const;
    // Where a voxel appears on screen (column, row).
    [[nodiscard]] std::array<int, 2> pixel_of(const Voxel& voxel) const;
    // Index into the volume's voxels of screen pixel (column, row) on slice `slice`.
    [[nodiscard]] std::int64_t linear_index(int column, int row, std::int64_t slice) const;

private:
    struct ScreenAxis {
        int voxel_axis;
        bool reversed;  // screen coordinate 0 is the voxel axis's last index
        std::int64_t extent;
    };
    [[nodiscard]] std::int64_t voxel_coordinate(const ScreenAxis& axis, int screen) const;

    ScreenAxis columns_{}, rows_{};
    int normal_axis_ = 2;
    std::int64_t slice_count_ = 1;
    std::array<std::int64_t, 3> strides_{};
    int width_ = 0, height_ = 0;
    std::array<double, 2> pixel_mm_{1.0, 1.0};
};

}  // namespace cls::app
