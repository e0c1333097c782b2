#include "cls/volume.hpp"

#include <Eigen/Geometry>
#include <cassert>

namespace cls {

Volume::Volume(const Dims& dims, const Affine& voxel_to_world)
    : dims_(dims), affine_(voxel_to_world) {
    assert(dims[0] >= 0 && dims[1] >= 0 && dims[2] >= 0);
    for (int axis = 0; axis < 3; ++axis) spacing_[axis] = affine_.block<3, 1>(0, axis).norm();
    data_.assign(static_cast<std::size_t>(dims[0] * dims[1] * dims[2]), 0.0f);
}

Eigen::Vector3d Volume::world(const Eigen::Vector3d& voxel) const {
    return (affine_ * voxel.homogeneous()).head<3>();
}

std::string grid_text(const Volume& volume) {
    const Dims& d = volume.dims();
    return std::to_string(d[0]) + "x" + std::to_string(d[1]) + "x" + std::to_string(d[2]);
}

bool same_grid(const Volume& a, const Volume& b, double tolerance_mm) {
    if (a.dims() != b.dims()) return false;
    return (a.affine() - b.affine()).cwiseAbs().maxCoeff() <= tolerance_mm;
}

Status check_same_grid(const Volume& volume, const Volume& reference,
                       std::string_view reference_description) {
    const std::string description(reference_description);
    if (volume.dims() != reference.dims()) {
        return make_error("is " + grid_text(volume) + " but " + description + " is " +
                          grid_text(reference));
    }
    if (!same_grid(volume, reference)) {
        return make_error("has a different voxel-to-world affine from " + description);
    }
    return Done{};
}

}  // namespace cls
