#include <gtest/gtest.h>

#include "cls/case_pairing.hpp"

namespace cls {
namespace {

TEST(CaseNames, StripExtensionsAndChannels) {
    EXPECT_EQ(case_name("case_003.nii.gz"), "case_003");
    EXPECT_EQ(case_name("case_003.NII"), "case_003");
    EXPECT_EQ(case_name("case_003_0000.nii.gz", true), "case_003");
    EXPECT_EQ(case_name("case_003_0000.nii.gz", false), "case_003_0000");
    EXPECT_EQ(case_name("case_003.nii.gz", true), "case_003");  // "_003" is not "_NNNN"
    EXPECT_TRUE(is_nifti_name("a.nii.GZ"));
    EXPECT_FALSE(is_nifti_name("a.nii.bak"));
}

TEST(Pairing, PairsByCaseAcrossCompression) {
    auto pairs =
        pair_cases({"b.nii.gz", "a.nii"}, "probability map", {"a.nii.gz", "b.nii"}, "label");
    ASSERT_TRUE(pairs);
    ASSERT_EQ(pairs->size(), 2u);
    EXPECT_EQ((*pairs)[0].name, "a");
    EXPECT_EQ((*pairs)[0].first, "a.nii");
    EXPECT_EQ((*pairs)[0].second, "a.nii.gz");
}

TEST(Pairing, NamesWhatIsUnmatchedOrDuplicated) {
    auto unmatched = pair_cases({"a.nii", "b.nii"}, "probability map", {"a.nii", "c.nii"}, "label");
    ASSERT_FALSE(unmatched);
    EXPECT_EQ(unmatched.error().message,
              "cases are not paired by name: no label for b.nii; no probability map for c.nii");
    auto duplicated = pair_cases({"a.nii", "a.nii.gz"}, "probability map", {"a.nii"}, "label");
    ASSERT_FALSE(duplicated);
    EXPECT_NE(duplicated.error().message.find("two probability map files belong to case 'a'"),
              std::string::npos);
}

}  // namespace
}  // namespace cls
