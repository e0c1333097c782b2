#include "cls/components.hpp"

#include <cassert>

namespace cls {

Components label_components(std::span<const std::uint8_t> mask, const Dims& dims) {
    const std::int64_t nx = dims[0], ny = dims[1], nz = dims[2];
    assert(mask.size() == static_cast<std::size_t>(nx * ny * nz));
    Components result;
    result.labels.assign(mask.size(), 0);

    // Flood fill with an explicit stack: recursion would overflow on large lesions.
    std::vector<std::int64_t> stack;
    for (std::int64_t start = 0; start < static_cast<std::int64_t>(mask.size()); ++start) {
        if (!mask[start] || result.labels[start] != 0) continue;
        const std::int32_t id = ++result.count;
        result.labels[start] = id;
        stack.push_back(start);
        while (!stack.empty()) {
            const std::int64_t v = stack.back();
            stack.pop_back();
            const std::int64_t x = v % nx, y = (v / nx) % ny, z = v / (nx * ny);
            for (std::int64_t dz = -1; dz <= 1; ++dz) {
                const std::int64_t zz = z + dz;
                if (zz < 0 || zz >= nz) continue;
                for (std::int64_t dy = -1; dy <= 1; ++dy) {
                    const std::int64_t yy = y + dy;
                    if (yy < 0 || yy >= ny) continue;
                    for (std::int64_t dx = -1; dx <= 1; ++dx) {
                        const std::int64_t xx = x + dx;
                        if (xx < 0 || xx >= nx) continue;
                        const std::int64_t w = xx + nx * (yy + ny * zz);
                        if (mask[w] && result.labels[w] == 0) {
                            result.labels[w] = id;
                            stack.push_back(w);
                        }
                    }
                }
            }
        }
    }
    return result;
}

}  // namespace cls
