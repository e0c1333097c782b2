// The one policy for how files pair into cases, called by the CLI (`pair_cases`), the app (its
// folder drop) and Node (`cls_infer_case_name`, for the maps scripts/infer.mjs writes).
// [X] this project's names: "case_003.nii.gz" in images/, labels/ and probs/
// [X] role folders ("labels", "labelsTr", "masks", "probs", "imagesTs", ...) and role suffixes
//     ("_label", "_seg", "_mask", "_gt", "_prob", "_probs", "_pred", "_image")
// [X] region masks (cls/region_of_interest.hpp): "_brainmask", "_brain_mask", "_roi", folders
//     "brainmasks", "rois"; BIDS "..._desc-brain_mask". A plain "_mask" stays a label (lesion
//     masks are named so far more often), so a brain mask must say "brain" or sit in its folder
// [X] nnU-Net: "imagesTr/case_003_0000.nii.gz" is channel 0000 of case "case_003"
// [X] BIDS: "sub-01_ses-01_FLAIR.nii.gz" is the FLAIR image of case "sub-01_ses-01"; derivatives
//     "..._desc-lesion_mask", "..._label-lesion_mask", "..._dseg" are labels, "..._probseg" a
//     probability map; entities other than sub and ses (acq, run, space, desc, ...) are dropped
// [X] nnU-Net's predictions folder: "<case>.npz" (probabilities) beside "<case>.nii.gz" (its
//     hard segmentation), where the .npz is the map and the segmentation is set aside
// [ ] sessions as folders only (sub-01/ses-01/anat/FLAIR.nii.gz): the name must carry sub-
// Role by content (an all-0/1 volume is a label) is the app's fallback, not part of this rule.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cls/result.hpp"

namespace cls {

enum class FileRole { image = 0, label = 1, probability = 2, mask = 3 };
inline constexpr std::array<FileRole, 4> kFileRoles{FileRole::image, FileRole::label,
                                                    FileRole::probability, FileRole::mask};
// "image", "label", "probability map", "region mask": the words messages use.
[[nodiscard]] const char* role_name(FileRole role);

// True for names ending in .nii or .nii.gz (case-insensitive).
[[nodiscard]] bool is_nifti_name(std::string_view file_name);

// True for names ending in .npz (case-insensitive): nnU-Net's saved class probabilities.
[[nodiscard]] bool is_npz_name(std::string_view file_name);

// The plans.json that nnUNetv2_predict writes beside the .npz files at `npz_path`, which says
// which grid their arrays lie on (cls/nnunet_probabilities.hpp).
[[nodiscard]] std::string nnunet_plans_path(std::string_view npz_path);
[[nodiscard]] bool is_nnunet_plans_name(std::string_view path);
// The other files it writes there, dataset.json, predict_from_raw_data_args.json and each case's
// <case>.pkl: records of the run, which nothing here reads (no certificate or model manifest,
// and a pickle can run code when it is read).
[[nodiscard]] bool is_nnunet_prediction_record(std::string_view path);

// A path's file name without its folders and its .nii, .nii.gz or .npz extension (any case).
[[nodiscard]] std::string_view file_stem(std::string_view path);

struct FileNaming {
    std::string case_name;         // what pairs the file with its case's other files
    std::optional<FileRole> role;  // what the path says the file is; empty when it says nothing
    std::string modality;          // BIDS suffix ("FLAIR", "T1w") or nnU-Net channel ("0000")
};

// Names a file from its path (any folders, '/' or '\\'). `known_role` is the role the caller
// already has (the CLI's --probs and --labels folders); it is then the role returned.
// A .npz is a probability map unless `known_role` says otherwise.
// Precedence: BIDS entities; a role suffix; the innermost role folder; an nnU-Net channel
// "_NNNN", stripped only from files that are images or of unknown role, since nnU-Net puts
// channels on images alone and a label "patient_0001" must keep its whole name.
[[nodiscard]] FileNaming name_file(std::string_view path,
                                   std::optional<FileRole> known_role = std::nullopt);

struct CasePair {
    std::string name;
    std::string first;   // file name in the first list
    std::string second;  // file name in the second list
};

// nnU-Net writes "<case>.nii.gz", its hard segmentation, beside "<case>.npz" when asked to
// save probabilities. Read as a probability map, a 0/1 segmentation would certify nonsense, so
// of the files a probability folder holds, every .nii/.nii.gz with a .npz of the same path
// and stem is set aside (the comparison ignores case, as the extensions' do).
struct ProbabilityFiles {
    std::vector<std::string> maps;       // what to read as probability maps, in the given order
    std::vector<std::string> set_aside;  // the segmentations beside their .npz
};
[[nodiscard]] ProbabilityFiles set_aside_nnunet_segmentations(std::vector<std::string> paths);

// The files of one role by case name (name_file's, with `role` known). Refuses two files of one
// case, naming both. (Pairing a third file with already paired cases: an image or region mask.)
[[nodiscard]] Result<std::map<std::string, std::string>> files_by_case(
    const std::vector<std::string>& files, FileRole role);

// Pairs two lists of file names, each of one role, by name_file's case name, sorted by name.
// Refuses two files of one case in a list and names present in one list only, saying what
// ("probability map", "label") is missing for which file.
[[nodiscard]] Result<std::vector<CasePair>> pair_cases(const std::vector<std::string>& first,
                                                       FileRole first_role,
                                                       const std::vector<std::string>& second,
                                                       FileRole second_role);

}  // namespace cls
