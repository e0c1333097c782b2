#include "cls/inference/resampling.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace cls::inference {
namespace {

constexpr double kSameSpacing = 1e-3;  // relative
constexpr double kAnisotropic = 3.0;   // largest over smallest spacing

// The thick axis of a strongly anisotropic grid, or -1.
int thick_axis(const std::array<double, 3>& spacing) {
    const auto [low, high] = std::minmax_element(spacing.begin(), spacing.end());
    if (*high <= kAnisotropic * *low) return -1;
    return static_cast<int>(high - spacing.begin());
}

// One axis resampled from `from[axis]` to `n` voxels, the other axes as they are.
std::vector<float> resample_axis(const std::vector<float>& in, Dims& dims, int axis, std::int64_t n,
                                 bool nearest) {
    const std::int64_t m = dims[axis];
    if (m == n) return in;
    Dims out_dims = dims;
    out_dims[axis] = n;
    // Along the axis, each output voxel reads two source voxels with weights (linear) or one.
    std::vector<std::int64_t> lower(static_cast<std::size_t>(n)), upper(lower.size());
    std::vector<float> upper_weight(lower.size());
    const double scale = static_cast<double>(m) / static_cast<double>(n);
    for (std::int64_t o = 0; o < n; ++o) {
        const double x = (static_cast<double>(o) + 0.5) * scale - 0.5;
        const auto k = static_cast<std::size_t>(o);
        if (nearest) {
            lower[k] = upper[k] = std::clamp<std::int64_t>(std::llround(x), 0, m - 1);
            upper_weight[k] = 0.0f;
            continue;
        }
        const double floor_x = std::floor(x);
        lower[k] = std::clamp<std::int64_t>(static_cast<std::int64_t>(floor_x), 0, m - 1);
        upper[k] = std::clamp<std::int64_t>(static_cast<std::int64_t>(floor_x) + 1, 0, m - 1);
        upper_weight[k] = static_cast<float>(x - floor_x);
    }
    // Strides of the axis and of the block of axes below it.
    std::int64_t inner = 1;
    for (int a = 0; a < axis; ++a) inner *= dims[a];
    std::int64_t outer = 1;
    for (int a = axis + 1; a < 3; ++a) outer *= dims[a];
    std::vector<float> out(static_cast<std::size_t>(inner * n * outer));
    for (std::int64_t b = 0; b < outer; ++b) {
        const float* source = in.data() + b * m * inner;
        float* target = out.data() + b * n * inner;
        for (std::int64_t o = 0; o < n; ++o) {
            const auto k = static_cast<std::size_t>(o);
            const float* lo = source + lower[k] * inner;
            const float* hi = source + upper[k] * inner;
            const float w = upper_weight[k];
            float* row = target + o * inner;
            for (std::int64_t i = 0; i < inner; ++i) row[i] = lo[i] + w * (hi[i] - lo[i]);
        }
    }
    dims = out_dims;
    return out;
}

}  // namespace

ModelGrid model_grid(const Dims& dims, const std::array<double, 3>& spacing,
                     const std::array<double, 3>& model_spacing) {
    ModelGrid grid;
    grid.source = dims;
    grid.model = dims;
    bool differs = false;
    for (int a = 0; a < 3; ++a) {
        if (std::abs(spacing[a] / model_spacing[a] - 1.0) <= kSameSpacing) continue;
        differs = true;
        const double extent = static_cast<double>(dims[a]) * spacing[a] / model_spacing[a];
        grid.model[a] = std::max<std::int64_t>(1, std::llround(extent));
    }
    if (!differs) return grid;
    // nnU-Net looks at the source's anisotropy first, then the target's.
    int thick = thick_axis(spacing);
    if (thick < 0) thick = thick_axis(model_spacing);
    if (thick >= 0) grid.nearest[static_cast<std::size_t>(thick)] = true;
    return grid;
}

std::vector<float> resample(std::span<const float> values, const Dims& from, const Dims& to,
                            const std::array<bool, 3>& nearest) {
    std::vector<float> out(values.begin(), values.end());
    Dims dims = from;
    for (int a = 0; a < 3; ++a)
        out = resample_axis(out, dims, a, to[a], nearest[static_cast<std::size_t>(a)]);
    return out;
}

}  // namespace cls::inference
