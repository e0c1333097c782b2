#include <gtest/gtest.h>

#include "cls/case_pairing.hpp"

namespace cls {
namespace {

struct NamingRow {
    const char* path;
    const char* case_name;
    std::optional<FileRole> role;
    const char* modality;
};

constexpr auto kImage = FileRole::image;
constexpr auto kLabel = FileRole::label;
constexpr auto kProbability = FileRole::probability;
constexpr auto kMask = FileRole::mask;

// Paths as datasets keep them -> (case, role, modality).
const NamingRow kRows[] = {
    // This project's synth layout, and compression or case in the extension.
    {"set/images/case_003.nii.gz", "case_003", kImage, ""},
    {"set/labels/case_003.nii.gz", "case_003", kLabel, ""},
    {"set/probs/case_003.nii", "case_003", kProbability, ""},
    {"case_003.NII", "case_003", std::nullopt, ""},
    {"x/case_1.nii", "case_1", std::nullopt, ""},
    // The app's folder words (innermost wins) and suffix words.
    {"masks/a.nii", "a", kLabel, ""},
    {"gt/a.nii", "a", kLabel, ""},
    {"data/segmentations/a.nii", "a", kLabel, ""},
    {"Probabilities/a.nii", "a", kProbability, ""},
    {"predictions/a.nii", "a", kProbability, ""},
    {"labels/probs/a.nii", "a", kProbability, ""},
    {"C:\\data\\labelsTs\\a.nii", "a", kLabel, ""},
    {"case_1_seg.nii", "case_1", kLabel, ""},
    {"case_1_label.nii.gz", "case_1", kLabel, ""},
    {"case_1_Mask.nii.gz", "case_1", kLabel, ""},
    {"case_1_gt.nii.gz", "case_1", kLabel, ""},
    {"case_1_prob.nii", "case_1", kProbability, ""},
    {"case_1_probs.nii", "case_1", kProbability, ""},
    {"case_1_pred.nii", "case_1", kProbability, ""},
    {"case_1_image.nii", "case_1", kImage, ""},
    {"images/case_1_seg.nii", "case_1", kLabel, ""},  // the name beats the folder
    // Region masks (cls/region_of_interest.hpp) say "brain" or sit in their folder: a plain
    // "_mask" is a lesion mask far more often.
    {"case_1_brainmask.nii.gz", "case_1", kMask, ""},
    {"case_1_brain_mask.nii.gz", "case_1", kMask, ""},
    {"case_1_roi.nii", "case_1", kMask, ""},
    {"brainmasks/case_1.nii.gz", "case_1", kMask, ""},
    {"set/rois/case_1.nii.gz", "case_1", kMask, ""},
    {"brainmasks/case_1_mask.nii.gz", "case_1", kLabel, ""},  // the name beats the folder
    {"_seg.nii", "_seg", std::nullopt, ""},                   // a suffix alone is no case
    // nnU-Net: channels on images only; a label keeps a name that merely ends in 4 digits.
    {"Task01/imagesTr/case_003_0000.nii.gz", "case_003", kImage, "0000"},
    {"Task01/imagesTs/case_003_0001.nii.gz", "case_003", kImage, "0001"},
    {"Task01/labelsTr/case_003.nii.gz", "case_003", kLabel, ""},
    {"case_1_0000.nii.gz", "case_1", kImage, "0000"},
    {"labelsTr/patient_0001.nii.gz", "patient_0001", kLabel, ""},
    {"probs/case_003.nii.gz", "case_003", kProbability, ""},
    {"case_003.nii.gz", "case_003", std::nullopt, ""},  // "_003" is not a channel
    // BIDS raw data: sub and ses name the case, the suffix is the modality.
    {"ds/sub-01/ses-01/anat/sub-01_ses-01_FLAIR.nii.gz", "sub-01_ses-01", kImage, "FLAIR"},
    {"sub-01_ses-01_acq-3D_run-2_T1w.nii.gz", "sub-01_ses-01", kImage, "T1w"},
    {"sub-02_T2w.nii", "sub-02", kImage, "T2w"},
    {"sub-01_ses-01_rec-norm_FLAIR.nii.gz", "sub-01_ses-01", kImage, "FLAIR"},
    // BIDS derivatives: masks and discrete segmentations are labels, probseg maps.
    {"derivatives/lesions/sub-01/ses-01/anat/sub-01_ses-01_space-orig_desc-lesion_mask.nii.gz",
     "sub-01_ses-01", kLabel, ""},
    {"sub-01_ses-01_label-lesion_mask.nii.gz", "sub-01_ses-01", kLabel, ""},
    {"sub-01_ses-01_dseg.nii.gz", "sub-01_ses-01", kLabel, ""},
    {"sub-01_ses-01_space-orig_label-lesion_probseg.nii.gz", "sub-01_ses-01", kProbability, ""},
    {"sub-01_ses-01_desc-lesion_seg.nii.gz", "sub-01_ses-01", kLabel, ""},
    {"sub-01_ses-01_space-orig_desc-brain_mask.nii.gz", "sub-01_ses-01", kMask, ""},
    // Entities only: the folder decides the role.
    {"probs/sub-01_ses-01.nii.gz", "sub-01_ses-01", kProbability, ""},
    // Not BIDS: "sub-" must hold a label, and parts between entities must be entities.
    {"sub-_x.nii", "sub-_x", std::nullopt, ""},
    {"sub-01_brain_FLAIR.nii", "sub-01_brain_FLAIR", std::nullopt, ""},
};

TEST(CaseNames, FollowOnePolicyForEveryLayout) {
    for (const NamingRow& row : kRows) {
        const FileNaming naming = name_file(row.path);
        EXPECT_EQ(naming.case_name, row.case_name) << row.path;
        EXPECT_EQ(naming.role, row.role) << row.path;
        EXPECT_EQ(naming.modality, row.modality) << row.path;
    }
}

TEST(CaseNames, AKnownRoleDecidesWhetherDigitsAreAChannel) {
    EXPECT_EQ(name_file("p/patient_0001.nii.gz").case_name, "patient");
    EXPECT_EQ(name_file("p/patient_0001.nii.gz", FileRole::label).case_name, "patient_0001");
    EXPECT_EQ(name_file("p/patient_0001.nii.gz", FileRole::label).role, FileRole::label);
    EXPECT_EQ(name_file("p/case_1_0000.nii.gz", FileRole::image).case_name, "case_1");
    EXPECT_EQ(name_file("images/case_1_seg.nii", FileRole::probability).role,
              FileRole::probability);
    EXPECT_EQ(name_file("sub-01_ses-01_FLAIR.nii", FileRole::label).case_name, "sub-01_ses-01");
    EXPECT_TRUE(is_nifti_name("a.nii.GZ"));
    EXPECT_FALSE(is_nifti_name("a.nii.bak"));
    EXPECT_STREQ(role_name(FileRole::probability), "probability map");
    EXPECT_STREQ(role_name(FileRole::mask), "region mask");
    EXPECT_EQ(name_file("brainmasks/case_1_0000.nii.gz", FileRole::mask).case_name, "case_1_0000");
}

TEST(Pairing, PairsByCaseAcrossCompression) {
    auto pairs = pair_cases({"b.nii.gz", "a.nii"}, FileRole::probability, {"a.nii.gz", "b.nii"},
                            FileRole::label);
    ASSERT_TRUE(pairs);
    ASSERT_EQ(pairs->size(), 2u);
    EXPECT_EQ((*pairs)[0].name, "a");
    EXPECT_EQ((*pairs)[0].first, "a.nii");
    EXPECT_EQ((*pairs)[0].second, "a.nii.gz");
}

TEST(Pairing, PairsAnNnUnetLayout) {
    // Predictions written under the image's name, channel and all, pair too.
    auto images = pair_cases({"case_003_0000.nii.gz", "case_004_0000.nii.gz"}, FileRole::image,
                             {"case_004.nii.gz", "case_003.nii.gz"}, FileRole::label);
    ASSERT_TRUE(images) << images.error().message;
    ASSERT_EQ(images->size(), 2u);
    EXPECT_EQ((*images)[0].name, "case_003");
    EXPECT_EQ((*images)[0].first, "case_003_0000.nii.gz");
    auto maps = pair_cases({"case_003.nii.gz", "patient_0001.nii.gz"}, FileRole::probability,
                           {"patient_0001.nii.gz", "case_003.nii.gz"}, FileRole::label);
    ASSERT_TRUE(maps) << maps.error().message;
    EXPECT_EQ((*maps)[1].name, "patient_0001");
}

TEST(Pairing, ReadsAnNnUnetPredictionsFolderByItsProbabilities) {
    // nnUNetv2_predict --save_probabilities: <case>.npz beside <case>.nii.gz, its segmentation.
    EXPECT_TRUE(is_npz_name("case_003.NPZ"));
    EXPECT_EQ(name_file("predictions/case_003.npz").role, FileRole::probability);
    EXPECT_EQ(name_file("anywhere/patient_0001.npz").case_name, "patient_0001");
    const ProbabilityFiles files = set_aside_nnunet_segmentations(
        {"case_003.nii.gz", "case_003.npz", "case_004.nii.gz", "Case_005.NII", "case_005.npz"});
    EXPECT_EQ(files.maps,
              (std::vector<std::string>{"case_003.npz", "case_004.nii.gz", "case_005.npz"}));
    EXPECT_EQ(files.set_aside, (std::vector<std::string>{"case_003.nii.gz", "Case_005.NII"}));
    // Only a .npz of the same folder sets a segmentation aside.
    EXPECT_TRUE(set_aside_nnunet_segmentations({"a/x.nii.gz", "b/x.npz"}).set_aside.empty());
    auto pairs =
        pair_cases(files.maps, FileRole::probability,
                   {"case_003.nii.gz", "case_004.nii.gz", "case_005.nii.gz"}, FileRole::label);
    ASSERT_TRUE(pairs) << pairs.error().message;
    EXPECT_EQ((*pairs)[0].first, "case_003.npz");
}

TEST(Pairing, NnunetPlansAndRecordsLieBesideThePredictions) {
    EXPECT_EQ(nnunet_plans_path("predictions/case_001.npz"), "predictions/plans.json");
    EXPECT_EQ(nnunet_plans_path("/data/out/case_001.npz"), "/data/out/plans.json");
    EXPECT_EQ(nnunet_plans_path("case_001.npz"), "plans.json");
    EXPECT_TRUE(is_nnunet_plans_name("predictions/plans.json"));
    EXPECT_TRUE(is_nnunet_plans_name("plans.json"));
    EXPECT_FALSE(is_nnunet_plans_name("predictions/nnUNetPlans.json"));
    EXPECT_TRUE(is_nnunet_prediction_record("predictions/dataset.json"));
    EXPECT_TRUE(is_nnunet_prediction_record("predictions/predict_from_raw_data_args.json"));
    EXPECT_TRUE(is_nnunet_prediction_record("predictions/case_001.PKL"));
    EXPECT_FALSE(is_nnunet_prediction_record("predictions/plans.json"));
    EXPECT_FALSE(is_nnunet_prediction_record("predictions/case_001.npz"));
}

TEST(Pairing, PairsABidsLayout) {
    auto pairs = pair_cases(
        {"sub-01_ses-01_space-orig_label-lesion_probseg.nii.gz",
         "sub-02_ses-01_space-orig_label-lesion_probseg.nii.gz"},
        FileRole::probability,
        {"sub-02_ses-01_space-orig_desc-lesion_mask.nii.gz", "sub-01_ses-01_label-lesion_dseg.nii"},
        FileRole::label);
    ASSERT_TRUE(pairs) << pairs.error().message;
    ASSERT_EQ(pairs->size(), 2u);
    EXPECT_EQ((*pairs)[0].name, "sub-01_ses-01");
    EXPECT_EQ((*pairs)[0].second, "sub-01_ses-01_label-lesion_dseg.nii");
    EXPECT_EQ((*pairs)[1].name, "sub-02_ses-01");
    // An image and its map pair the same way (scripts/infer.mjs names maps by the case).
    auto images = pair_cases({"sub-01_ses-01_FLAIR.nii.gz"}, FileRole::image,
                             {"sub-01_ses-01.nii.gz"}, FileRole::probability);
    ASSERT_TRUE(images) << images.error().message;
}

TEST(Pairing, NamesWhatIsUnmatchedOrDuplicated) {
    auto unmatched =
        pair_cases({"a.nii", "b.nii"}, FileRole::probability, {"a.nii", "c.nii"}, FileRole::label);
    ASSERT_FALSE(unmatched);
    EXPECT_EQ(unmatched.error().message,
              "cases are not paired by name: no label for b.nii; no probability map for c.nii");
    auto duplicated =
        pair_cases({"a.nii", "a.nii.gz"}, FileRole::probability, {"a.nii"}, FileRole::label);
    ASSERT_FALSE(duplicated);
    EXPECT_NE(duplicated.error().message.find("two probability map files belong to case 'a'"),
              std::string::npos);
    auto two_sessions =
        pair_cases({"sub-01_ses-01_run-1_FLAIR.nii", "sub-01_ses-01_run-2_FLAIR.nii"},
                   FileRole::image, {}, FileRole::label);
    ASSERT_FALSE(two_sessions);
    EXPECT_NE(two_sessions.error().message.find("two image files belong to case 'sub-01_ses-01'"),
              std::string::npos);
}

}  // namespace
}  // namespace cls
