#include "cls/inference/axis_order.hpp"

#include <cmath>
#include <cstdint>

namespace cls::inference {
namespace {

// Visits every voxel as (index in the image, index in the network's order).
template <class Visit>
void for_each_voxel(const Dims& image, const Reorientation& r, Visit visit) {
    const Dims network = r.permuted(image);
    std::array<std::int64_t, 3> stride{1, image[0], image[0] * image[1]};
    // Where a step along each network axis moves in the image, and where network (0, 0, 0) is.
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

std::string_view to_string(AxisOrder order) { return name_of(kAxisOrderNames, order); }

Result<AxisOrder> parse_axis_order(std::string_view text) {
    return parse_name(kAxisOrderNames, text, "axis_order");
}

Reorientation closest_ras(const Affine& voxel_to_world) {
    Reorientation r;
    std::array<bool, 3> voxel_used{}, world_used{};
    for (int round = 0; round < 3; ++round) {
        int best_voxel = -1, best_world = -1;
        double best = -1.0;
        for (int v = 0; v < 3; ++v) {
            if (voxel_used[static_cast<std::size_t>(v)]) continue;
            // Direction cosines: the column normalised, so spacing does not decide.
            const double norm = voxel_to_world.block<3, 1>(0, v).norm();
            for (int w = 0; w < 3; ++w) {
                if (world_used[static_cast<std::size_t>(w)]) continue;
                const double alignment = norm > 0.0 ? std::abs(voxel_to_world(w, v)) / norm : 0.0;
                if (alignment > best) {
                    best = alignment;
                    best_voxel = v;
                    best_world = w;
                }
            }
        }
        voxel_used[static_cast<std::size_t>(best_voxel)] = true;
        world_used[static_cast<std::size_t>(best_world)] = true;
        r.from[static_cast<std::size_t>(best_world)] = best_voxel;
        r.reversed[static_cast<std::size_t>(best_world)] =
            voxel_to_world(best_world, best_voxel) < 0.0;
    }
    return r;
}

Reorientation reorientation_for(AxisOrder order, const Affine& voxel_to_world) {
    return order == AxisOrder::ras ? closest_ras(voxel_to_world) : Reorientation{};
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

}  // namespace cls::inference
