#include "case_profile_json.hpp"

#include <cmath>

#include "cls/json_fields.hpp"

namespace cls::detail {

using nlohmann::json;

json case_profile_to_json(const CaseProfile& profile) {
    json percentiles = nullptr;
    if (profile.intensity_percentiles) {
        percentiles = json::array();
        for (float q : *profile.intensity_percentiles) percentiles.push_back(q);
    }
    return {{"voxel_mm3", profile.voxel_mm3},
            {"region_voxels", profile.region_voxels},
            {"predicted_voxels", profile.predicted_voxels},
            {"uncertain_voxels", profile.uncertain_voxels},
            {"intensity_percentiles", std::move(percentiles)}};
}

Result<CaseProfile> parse_case_profile(const json& object) {
    if (!object.is_object()) return make_error("a case profile must be an object");
    const FieldReader r(object, "profile field");
    CaseProfile profile;
    CLS_TRY_ASSIGN(profile.voxel_mm3, r.number("voxel_mm3"));
    if (!(std::isfinite(profile.voxel_mm3) && profile.voxel_mm3 > 0.0)) {
        return r.error("voxel_mm3", "must be a positive number");
    }
    CLS_TRY_ASSIGN(profile.region_voxels, r.count("region_voxels"));
    CLS_TRY_ASSIGN(profile.predicted_voxels, r.count("predicted_voxels"));
    CLS_TRY_ASSIGN(profile.uncertain_voxels, r.count("uncertain_voxels"));
    if (profile.predicted_voxels > profile.region_voxels ||
        profile.uncertain_voxels > profile.region_voxels) {
        return make_error("a case profile counts more predicted or uncertain voxels than its " +
                          std::to_string(profile.region_voxels) + " region voxels");
    }
    const json* percentiles = nullptr;
    CLS_TRY_ASSIGN(percentiles, r.member("intensity_percentiles"));
    if (percentiles->is_null()) return profile;
    const std::size_t count = kIntensityPercentiles.size();
    if (!percentiles->is_array() || percentiles->size() != count) {
        return r.error("intensity_percentiles",
                       "must be null or a list of " + std::to_string(count) + " numbers");
    }
    std::array<float, kIntensityPercentiles.size()> values{};
    for (std::size_t i = 0; i < count; ++i) {
        const json& item = (*percentiles)[i];
        const bool ordered = item.is_number() && std::isfinite(item.get<double>()) &&
                             (i == 0 || item.get<double>() >= values[i - 1]);
        if (!ordered) {
            return r.error("intensity_percentiles", "must hold finite numbers in ascending order");
        }
        values[i] = item.get<float>();
    }
    profile.intensity_percentiles = values;
    return profile;
}

Result<RegionOfInterest> parse_region_field(const json& document) {
    auto it = document.find("region_of_interest");
    if (it == document.end()) return RegionOfInterest::none;
    if (!it->is_string()) {
        return make_error("field 'region_of_interest' must be \"none\", \"nonzero\" or \"mask\"");
    }
    return parse_region_of_interest(it->get<std::string>());
}

}  // namespace cls::detail
