#include "cls/reorientation.hpp"

#include <Eigen/SVD>
#include <cmath>
#include <cstdint>
#include <limits>

namespace cls {
namespace {

// Visits every voxel as (index in the volume, index in the rearranged order).
template <class Visit>
void for_each_voxel(const Dims& image, const Reorientation& r, Visit visit) {
    const Dims network = r.permuted(image);
    std::array<std::int64_t, 3> stride{1, image[0], image[0] * image[1]};
    // Where a step along each rearranged axis moves in the volume, and where (0, 0, 0) is.
    std::array<std::int64_t, 3> step{};
    std::int64_t origin = 0;
    for (std::size_t a = 0; a < 3; ++a) {
        const auto axis = static_cast<std::size_t>(r.from[a]);
        step[a] = r.reversed[a] ? -stride[axis] : stride[axis];
        if (r.reversed[a]) origin += (image[axis] - 1) * stride[axis];
    }
    std::size_t n = 0;
    for (std::int64_t z = 0; z < network[2]; ++z)
        for (std::int64_t y = 0; y < network[1]; ++y) {
            std::int64_t at = origin + z * step[2] + y * step[1];
            for (std::int64_t x = 0; x < network[0]; ++x, at += step[0], ++n)
                visit(static_cast<std::size_t>(at), n);
        }
}

}  // namespace

Reorientation closest_ras(const Affine& voxel_to_world) {
    // nibabel: RS = RZS / zooms (a zero column left as it is), R = P Qs from the SVD of RS.
    Eigen::Matrix3d rs = voxel_to_world.topLeftCorner<3, 3>();
    for (int v = 0; v < 3; ++v) {
        const double zoom = rs.col(v).norm();
        if (zoom != 0.0) rs.col(v) /= zoom;
    }
    const Eigen::JacobiSVD<Eigen::Matrix3d> svd(rs, Eigen::ComputeFullU | Eigen::ComputeFullV);
    const Eigen::Vector3d s = svd.singularValues();
    const double tolerance = s.maxCoeff() * 3.0 * std::numeric_limits<double>::epsilon();
    Eigen::Matrix3d r = Eigen::Matrix3d::Zero();
    for (int i = 0; i < 3; ++i) {
        if (s(i) > tolerance) r += svd.matrixU().col(i) * svd.matrixV().col(i).transpose();
    }
    Reorientation out;
    std::array<bool, 3> world_taken{};
    std::array<bool, 3> voxel_placed{};
    for (int voxel = 0; voxel < 3; ++voxel) {
        const Eigen::Vector3d column = r.col(voxel);
        if (column.cwiseAbs().maxCoeff() <= 1e-8) continue;  // np.allclose(col, 0)
        int world = 0;
        for (int w = 1; w < 3; ++w) {
            if (std::abs(column(w)) > std::abs(column(world))) world = w;  // np.argmax: first
        }
        out.from[static_cast<std::size_t>(world)] = voxel;
        out.reversed[static_cast<std::size_t>(world)] = column(world) < 0.0;
        world_taken[static_cast<std::size_t>(world)] = true;
        voxel_placed[static_cast<std::size_t>(voxel)] = true;
        r.row(world).setZero();  // the world axis is taken
    }
    // A degenerate affine (nibabel leaves NaN there): the axes left keep their order.
    for (int voxel = 0, world = 0; voxel < 3; ++voxel) {
        if (voxel_placed[static_cast<std::size_t>(voxel)]) continue;
        while (world_taken[static_cast<std::size_t>(world)]) ++world;
        out.from[static_cast<std::size_t>(world)] = voxel;
        out.reversed[static_cast<std::size_t>(world)] = false;
        world_taken[static_cast<std::size_t>(world)] = true;
    }
    return out;
}

std::vector<float> to_network_order(std::span<const float> values, const Dims& image,
                                    const Reorientation& r) {
    if (r.identity()) return {values.begin(), values.end()};
    std::vector<float> out(values.size());
    for_each_voxel(image, r, [&](std::size_t in_image, std::size_t in_network) {
        out[in_network] = values[in_image];
    });
    return out;
}

std::vector<float> to_image_order(std::span<const float> values, const Dims& image,
                                  const Reorientation& r) {
    if (r.identity()) return {values.begin(), values.end()};
    std::vector<float> out(values.size());
    for_each_voxel(image, r, [&](std::size_t in_image, std::size_t in_network) {
        out[in_image] = values[in_network];
    });
    return out;
}

}  // namespace cls
