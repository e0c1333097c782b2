// A region of interest: where a prediction may fall. On real MRI the calibrated threshold can be
// tiny (the author saw tau = 3e-5) and a mask at it covers the head and the air around
// it; restricting predictions to the head (the image's non-zero voxels, or a brain mask) keeps
// air out of every mask without touching the guarantee, because the rule is part of the
// predictor: the probability map is multiplied by the region, identically for every calibration
// case and every new case, and the certificate records which region was used.
// A lesion voxel outside the region then has probability 0, so it is missed at every threshold
// above 0 and counts against FNR: the guarantee still speaks of all lesion voxels. The mask at
// tau stays p' >= tau on the restricted map p'; only tau = 0 (when k calibration cases need
// voxels the region leaves out) marks voxels outside it, since every voxel is then predicted,
// and that is the only mask the certificate covers.
// [X] none; the image's non-zero voxels; a mask file (a brain mask), paired with its case
// [X] any non-zero, non-NaN value of the region's volume is inside (a resampled mask too)
// [ ] a region drawn in the app, or one grown or shrunk by a margin
#pragma once

#include <cmath>
#include <cstddef>
#include <optional>
#include <string_view>

#include "cls/case_pairing.hpp"
#include "cls/enum_names.hpp"
#include "cls/result.hpp"
#include "cls/volume.hpp"

namespace cls {

enum class RegionOfInterest { none, nonzero, mask };
inline constexpr EnumTable<RegionOfInterest, 3> kRegionOfInterestNames{
    {{RegionOfInterest::none, "none"},
     {RegionOfInterest::nonzero, "nonzero"},
     {RegionOfInterest::mask, "mask"}}};

[[nodiscard]] std::string_view to_string(RegionOfInterest region);
[[nodiscard]] Result<RegionOfInterest> parse_region_of_interest(std::string_view text);

// Which of a case's files gives its region: the image (nonzero), the region mask (mask), or
// none.
[[nodiscard]] std::optional<FileRole> region_source(RegionOfInterest region);

// The one membership rule: a voxel is inside when its value in the region's volume is non-zero
// and not NaN (a NaN is no measurement, so no reason to predict there).
[[nodiscard]] inline bool inside_region(float value) { return value != 0.0f && !std::isnan(value); }

// How many voxels of `region` are inside it.
[[nodiscard]] std::size_t region_voxel_count(const Volume& region);

// The restricted map p' = p inside the region, 0 outside, in place. `region` must be on the
// map's grid (check_same_grid) and not empty (a region with no voxel inside is a wrong file far
// more often than a real case); the message names it as `region_description` says ("its region
// images/case_003.nii.gz") and callers name the map's file with Error::in.
[[nodiscard]] Status restrict_to_region(Volume& probabilities, const Volume& region,
                                        std::string_view region_description);

}  // namespace cls
