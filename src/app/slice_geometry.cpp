#include "slice_geometry.hpp"

#include <cmath>

namespace cls::app {

const char* view_name(View view) {
    switch (view) {
        case View::axial:
            return "Axial";
        case View::coronal:
            return "Coronal";
        case View::sagittal:
            return "Sagittal";
    }
    return "?";
}

WorldAxes world_axes(const Affine& voxel_to_world) {
    // Greedy on the largest remaining |direction cosine|, as nibabel's io_orientation does
    // for non-oblique data; ties and obliquity just pick the closest axis.
    WorldAxes axes;
    std::array<bool, 3> world_taken{}, voxel_taken{};
    const Eigen::Matrix3d m = voxel_to_world.topLeftCorner<3, 3>();
    Eigen::Matrix3d cosines = m;
    for (int c = 0; c < 3; ++c) {
        const double norm = m.col(c).norm();
        if (norm > 0) cosines.col(c) /= norm;
    }
    for (int round = 0; round < 3; ++round) {
        int best_world = 0, best_voxel = 0;
        double best = -1.0;
        for (int w = 0; w < 3; ++w) {
            for (int v = 0; v < 3; ++v) {
                if (world_taken[w] || voxel_taken[v]) continue;
                if (std::abs(cosines(w, v)) > best) {
                    best = std::abs(cosines(w, v));
                    best_world = w;
                    best_voxel = v;
                }
            }
        }
        world_taken[best_world] = voxel_taken[best_voxel] = true;
        axes.voxel_axis[best_world] = best_voxel;
        axes.reversed[best_world] = cosines(best_world, best_voxel) < 0;
    }
    return axes;
}

SliceGeometry::SliceGeometry(const Volume& grid, View view, bool radiological) {
    const WorldAxes axes = world_axes(grid.affine());
    const Dims& dims = grid.dims();
    strides_ = {1, dims[0], dims[0] * dims[1]};
    // Screen x / y in world axes, and whether screen coordinates grow against the world axis.
    // Screen rows grow downwards, so "anterior up" / "superior up" means reversed rows.
    int world_x = 0, world_y = 1, world_normal = 2;
    bool x_against = radiological, y_against = true;
    switch (view) {
        case View::axial:
            world_x = 0;
            world_y = 1;
            world_normal = 2;
            break;
        case View::coronal:
            world_x = 0;
            world_y = 2;
            world_normal = 1;
            break;
        case View::sagittal:
            world_x = 1;
            world_y = 2;
            world_normal = 0;
            x_against = true;  // anterior on the left
            break;
    }
    const auto screen_axis = [&](int world, bool against) {
        const int v = axes.voxel_axis[world];
        return ScreenAxis{v, axes.reversed[world] != against, dims[v]};
    };
    columns_ = screen_axis(world_x, x_against);
    rows_ = screen_axis(world_y, y_against);
    normal_axis_ = axes.voxel_axis[world_normal];
    slice_count_ = dims[normal_axis_];
    width_ = static_cast<int>(columns_.extent);
    height_ = static_cast<int>(rows_.extent);
    pixel_mm_ = {grid.spacing()[columns_.voxel_axis], grid.spacing()[rows_.voxel_axis]};
}

std::int64_t SliceGeometry::voxel_coordinate(const ScreenAxis& axis, int screen) const {
    return axis.reversed ? axis.extent - 1 - screen : screen;
}

Voxel SliceGeometry::voxel_at(int column, int row, const Voxel& cursor) const {
    Voxel v = cursor;
    v[columns_.voxel_axis] = voxel_coordinate(columns_, column);
    v[rows_.voxel_axis] = voxel_coordinate(rows_, row);
    return v;
}

std::array<int, 2> SliceGeometry::pixel_of(const Voxel& voxel) const {
    const auto screen = [](const ScreenAxis& axis, std::int64_t coordinate) {
        return static_cast<int>(axis.reversed ? axis.extent - 1 - coordinate : coordinate);
    };
    return {screen(columns_, voxel[columns_.voxel_axis]), screen(rows_, voxel[rows_.voxel_axis])};
}

std::int64_t SliceGeometry::linear_index(int column, int row, std::int64_t slice) const {
    return voxel_coordinate(columns_, column) * strides_[columns_.voxel_axis] +
           voxel_coordinate(rows_, row) * strides_[rows_.voxel_axis] +
           slice * strides_[normal_axis_];
}

}  // namespace cls::app
