// Private to the NIfTI reader and writer: the qform's quaternion in both directions, computed
// as nibabel computes it (nibabel/quaternions.py, Nifti1Header.get_qform / set_qform), so
// that a qform written here reads back in nibabel as the rotation we meant, and vice versa.
#pragma once

#include <Eigen/Core>
#include <Eigen/Geometry>
#include <Eigen/SVD>
#include <array>
#include <cmath>
#include <limits>
#include <optional>

#include "cls/volume.hpp"

namespace cls::nifti::detail {

// nibabel's fillpositive() then quat2mat(): the header stores only (b, c, d) of a unit
// quaternion with w >= 0. A vector longer than 1 by more than `tolerance` (rounding of the
// stored precision) has no such w: the header is corrupt and nullopt says so.
[[nodiscard]] inline std::optional<Eigen::Matrix3d> rotation_from_quaternion(
    const std::array<double, 3>& bcd, double tolerance) {
    const auto [b, c, d] = bcd;
    const double w2 = 1.0 - (b * b + c * c + d * d);
    if (!(w2 >= -tolerance)) return std::nullopt;  // also refuses NaN
    const double w = w2 > 0.0 ? std::sqrt(w2) : 0.0;

    const double norm2 = w * w + b * b + c * c + d * d;
    if (norm2 < std::numeric_limits<double>::epsilon()) return Eigen::Matrix3d::Identity();
    const double s = 2.0 / norm2;
    const double x = b * s, y = c * s, z = d * s;
    Eigen::Matrix3d rotation;
    rotation << 1.0 - (c * y + d * z), b * y - w * z, b * z + w * y,  //
        b * y + w * z, 1.0 - (b * x + d * z), c * z - w * x,          //
        b * z - w * y, c * z + w * x, 1.0 - (b * x + c * y);
    return rotation;
}

struct Qform {
    std::array<double, 3> quatern{};  // b, c, d
    std::array<double, 3> qoffset{};
    std::array<double, 3> zooms{};  // pixdim[1..3]
    double qfac = 1.0;              // pixdim[0]
};

// nibabel's set_qform: the zooms are the column norms; qfac absorbs a reflection; the nearest
// rotation to what remains (polar decomposition through the SVD) drops any shear, which a
// quaternion cannot hold. The sform keeps the affine exactly; the qform is the best rigid
// approximation for readers that only look there.
[[nodiscard]] inline Qform qform_from_affine(const Affine& affine) {
    Qform q;
    Eigen::Matrix3d r = affine.topLeftCorner<3, 3>();
    const Eigen::Vector3d zooms = r.colwise().norm();
    q.zooms = {zooms.x(), zooms.y(), zooms.z()};
    for (Eigen::Index axis = 0; axis < 3; ++axis) {
        if (zooms(axis) > 0.0) r.col(axis) /= zooms(axis);  // a degenerate axis stays zero
    }
    if (r.determinant() <= 0.0) {
        q.qfac = -1.0;
        r.col(2) *= -1.0;
    }
    const Eigen::JacobiSVD<Eigen::Matrix3d> svd(r, Eigen::ComputeFullU | Eigen::ComputeFullV);
    Eigen::Matrix3d u = svd.matrixU();
    // Only for a singular r (a degenerate affine) can U V^T be a reflection; flipping the
    // direction of the least singular value gives the nearest proper rotation instead.
    if ((u * svd.matrixV().transpose()).determinant() < 0.0) u.col(2) *= -1.0;
    const Eigen::Quaterniond quaternion(Eigen::Matrix3d(u * svd.matrixV().transpose()));
    // q and -q are the same rotation; the header can only store the one with w >= 0.
    const double sign = quaternion.w() < 0.0 ? -1.0 : 1.0;
    q.quatern = {sign * quaternion.x(), sign * quaternion.y(), sign * quaternion.z()};
    q.qoffset = {affine(0, 3), affine(1, 3), affine(2, 3)};
    return q;
}

}  // namespace cls::nifti::detail
