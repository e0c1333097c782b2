// Pairs probability maps with labels (and images) by case name, as file names are written by
// segmentation tools: "case_003.nii.gz" pairs with "case_003.nii.gz" in another folder, and an
// nnU-Net image "case_003_0000.nii.gz" pairs with the label "case_003.nii.gz".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cls/result.hpp"

namespace cls {

// True for names ending in .nii or .nii.gz (case-insensitive).
[[nodiscard]] bool is_nifti_name(std::string_view file_name);

// The case a file name belongs to: extension removed and, when `strip_channel` is set, a
// trailing nnU-Net channel suffix "_NNNN" too.
[[nodiscard]] std::string case_name(std::string_view file_name, bool strip_channel = false);

struct CasePair {
    std::string name;
    std::string first;   // file name in the first list
    std::string second;  // file name in the second list
};

// Pairs two lists of file names by case name, sorted by name. Refuses duplicate case names and
// names present in one list only, listing them with `first_role` / `second_role`
// ("probability map", "label") so the user knows which folder lacks what.
[[nodiscard]] Result<std::vector<CasePair>> pair_cases(const std::vector<std::string>& first,
                                                       std::string_view first_role,
                                                       const std::vector<std::string>& second,
                                                       std::string_view second_role);

}  // namespace cls
