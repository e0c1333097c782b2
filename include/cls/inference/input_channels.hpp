// Which of a case's files feeds which input channel of a model that takes several (FLAIR, T1,
// T1c, T2 for a BraTS-style model), by one rule for every edge. In order:
//   1. nnU-Net's channel suffix: "case_003_0002.nii.gz" is channel 2 of case "case_003";
//   2. a modality the manifest names (`input.modalities`, any letter case) as the BIDS suffix
//      ("sub-01_ses-01_FLAIR.nii.gz": case "sub-01_ses-01") or as the name's last "_" part
//      ("patient07_T1c.nii.gz", "BraTS2021_00000_flair.nii.gz": case "patient07", ...).
// A case must bring every channel once; what is missing is named by case and modality.
// [X] nnU-Net suffixes, BIDS suffixes, a modality word at the end of the name
// [ ] modality words elsewhere in the name, or from a folder per modality
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cls/inference/model_manifest.hpp"
#include "cls/result.hpp"

namespace cls::inference {

struct ChannelFile {
    std::string case_name;
    std::size_t channel = 0;
};

// The case and channel of one image file; refuses a file the rule does not place.
[[nodiscard]] Result<ChannelFile> channel_of_file(std::string_view path,
                                                  const ModelManifest& manifest);

struct CaseChannels {
    std::string name;
    std::vector<std::string> files;  // one per channel, in the manifest's order
};

// The files grouped into cases, sorted by name. Refuses a file the rule does not place, two
// files for one channel of a case (naming both) and a case without one of its channels.
[[nodiscard]] Result<std::vector<CaseChannels>> group_case_channels(
    const std::vector<std::string>& paths, const ModelManifest& manifest);

}  // namespace cls::inference
