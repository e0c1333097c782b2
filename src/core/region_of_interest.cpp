#include "cls/region_of_interest.hpp"

#include <algorithm>

namespace cls {

std::string_view to_string(RegionOfInterest region) {
    return name_of(kRegionOfInterestNames, region);
}

Result<RegionOfInterest> parse_region_of_interest(std::string_view text) {
    return parse_name(kRegionOfInterestNames, text, "region of interest");
}

std::optional<FileRole> region_source(RegionOfInterest region) {
    switch (region) {
        case RegionOfInterest::none:
            return std::nullopt;
        case RegionOfInterest::nonzero:
            return FileRole::image;
        case RegionOfInterest::mask:
            return FileRole::mask;
    }
    return std::nullopt;
}

std::size_t region_voxel_count(const Volume& region) {
    const std::vector<float>& values = region.values();
    return static_cast<std::size_t>(std::count_if(values.begin(), values.end(), inside_region));
}

Status restrict_to_region(Volume& probabilities, const Volume& region,
                          std::string_view region_description) {
    if (Status grid = check_same_grid(probabilities, region, region_description); !grid) {
        return grid;
    }
    float* p = probabilities.data();
    const float* r = region.data();
    std::size_t inside = 0;
    for (std::size_t i = 0; i < probabilities.voxel_count(); ++i) {
        if (inside_region(r[i])) {
            ++inside;
        } else {
            p[i] = 0.0f;
        }
    }
    // An empty region predicts nothing anywhere: a wrong file far more often than a real case.
    if (inside == 0) {
        return make_error(std::string(region_description) +
                          " is empty (every voxel is 0 or NaN), so nothing could be predicted");
    }
    return Done{};
}

}  // namespace cls
