// The JSON forms of a CaseProfile and a RegionOfInterest, shared by the documents that record
// them (the calibration certificate, the case score), so they have the same keys everywhere:
// a profile is {"voxel_mm3": 1.0, "region_voxels": N, "predicted_voxels": N,
// "uncertain_voxels": N, "intensity_percentiles": [7 numbers] or null}; the region is
// "region_of_interest": "none", "nonzero" or "mask".
// Private to the core. Reading runs without exceptions (they are off in WebAssembly).
#pragma once

#include <nlohmann/json.hpp>

#include "cls/exchangeability.hpp"
#include "cls/region_of_interest.hpp"
#include "cls/result.hpp"

namespace cls::detail {

[[nodiscard]] nlohmann::json case_profile_to_json(const CaseProfile& profile);
// Refuses a profile no case could have: a voxel volume that is not finite and positive, more
// voxels predicted or uncertain than in the region, percentiles out of order or not finite.
[[nodiscard]] Result<CaseProfile> parse_case_profile(const nlohmann::json& object);

// "region_of_interest" of `document`; absent means none (documents written before regions).
[[nodiscard]] Result<RegionOfInterest> parse_region_field(const nlohmann::json& document);

}  // namespace cls::detail
