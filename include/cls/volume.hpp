// A 3D scalar volume: dimensions, voxel spacing, the voxel→world affine and contiguous
// float32 voxels in x-fastest (NIfTI, Fortran) order, exactly as the file stores them.
// Values are the file's values after scl_slope/scl_inter, held as float32: probability
// maps are float32 in practice, and calibration and application both see these same
// float32 values, so a threshold computed on them is applied consistently.
// [X] 3D volumes, the first volume of a 4D file (`source_volumes` says how many there were)
// [ ] Reorientation to a canonical axis order (the viewer will need it; the CLI keeps file order)
#pragma once

#include <Eigen/Core>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cls/result.hpp"

namespace cls {

using Dims = std::array<std::int64_t, 3>;
using Affine = Eigen::Matrix4d;

class Volume {
public:
    Volume() = default;
    // Zero-filled volume; spacing is taken from the affine's column norms.
    Volume(const Dims& dims, const Affine& voxel_to_world);

    [[nodiscard]] const Dims& dims() const { return dims_; }
    [[nodiscard]] std::size_t voxel_count() const { return data_.size(); }
    [[nodiscard]] const Affine& affine() const { return affine_; }
    [[nodiscard]] const std::array<double, 3>& spacing() const { return spacing_; }

    // Spacing from the header's pixdim, which the file may state apart from the affine.
    void set_spacing(const std::array<double, 3>& spacing) { spacing_ = spacing; }
    // Number of volumes along the 4th dimension in the source file (only the first is kept).
    [[nodiscard]] std::int64_t source_volumes() const { return source_volumes_; }
    void set_source_volumes(std::int64_t n) { source_volumes_ = n; }

    [[nodiscard]] float* data() { return data_.data(); }
    [[nodiscard]] const float* data() const { return data_.data(); }
    [[nodiscard]] std::vector<float>& values() { return data_; }
    [[nodiscard]] const std::vector<float>& values() const { return data_; }

    [[nodiscard]] std::size_t index(std::int64_t x, std::int64_t y, std::int64_t z) const {
        return static_cast<std::size_t>(x + dims_[0] * (y + dims_[1] * z));
    }
    [[nodiscard]] float at(std::int64_t x, std::int64_t y, std::int64_t z) const {
        return data_[index(x, y, z)];
    }
    float& at(std::int64_t x, std::int64_t y, std::int64_t z) { return data_[index(x, y, z)]; }

    // World coordinates (mm) of a voxel index.
    [[nodiscard]] Eigen::Vector3d world(const Eigen::Vector3d& voxel) const;

private:
    Dims dims_{0, 0, 0};
    Affine affine_ = Affine::Identity();
    std::array<double, 3> spacing_{1.0, 1.0, 1.0};
    std::int64_t source_volumes_ = 1;
    std::vector<float> data_;
};

// "20x20x16": a volume's dimensions as messages show them.
[[nodiscard]] std::string grid_text(const Volume& volume);

// True when two volumes share dimensions and, within `tolerance_mm`, their affines:
// an image, its label and its probability map must, to be compared voxel by voxel.
[[nodiscard]] bool same_grid(const Volume& a, const Volume& b, double tolerance_mm = 1e-3);

// The one grid rule every edge calls: `volume` must have `reference`'s dimensions and affine.
// The message describes the reference as given ("its probability map probs/case_003.nii.gz"),
// e.g. "is 4x4x4 but its probability map probs/case_003.nii.gz is 20x20x20"; callers name
// `volume`'s own file with Error::in.
[[nodiscard]] Status check_same_grid(const Volume& volume, const Volume& reference,
                                     std::string_view reference_description);

}  // namespace cls
