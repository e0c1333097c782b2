#include <gtest/gtest.h>

#include "calibration_session.hpp"
#include "case_store.hpp"

namespace cls::app {
namespace {

Volume filled(Dims dims, float value) {
    Volume v(dims, Affine::Identity());
    std::fill(v.values().begin(), v.values().end(), value);
    return v;
}

TEST(Roles, FromFoldersSuffixesAndContent) {
    const Volume any = filled({2, 2, 2}, 7.0f);
    EXPECT_EQ(guess_role("set/labelsTr/case_1.nii.gz", any), Role::label);
    EXPECT_EQ(guess_role("probs/case_1.nii.gz", any), Role::probability);
    EXPECT_EQ(guess_role("imagesTr/case_1_0000.nii.gz", any), Role::image);
    EXPECT_EQ(guess_role("case_1_0000.nii.gz", any), Role::image);
    EXPECT_EQ(guess_role("case_1_seg.nii", any), Role::label);
    EXPECT_EQ(guess_role("x/case_1.nii", filled({2, 2, 2}, 1.0f)), Role::label);
    EXPECT_EQ(guess_role("x/case_1.nii", filled({2, 2, 2}, 0.25f)), Role::probability);
    EXPECT_EQ(guess_role("x/case_1.nii", any), Role::image);
    EXPECT_EQ(case_name_of("imagesTr/case_1_0000.nii.gz"), "case_1");
    EXPECT_EQ(case_name_of("case_1_seg.nii"), "case_1");
}

TEST(CaseStore, PairsByNameAndComputesScoresOnce) {
    CaseStore store;
    Volume label = filled({2, 2, 2}, 0.0f);
    label.data()[0] = 1.0f;
    ASSERT_TRUE(store.add("labels/a.nii.gz", Role::label, label, "la"));
    EXPECT_EQ(store.calibrating_count(), 0u);
    ASSERT_TRUE(store.add("probs/a.nii.gz", Role::probability, filled({2, 2, 2}, 0.4f), "pa"));
    ASSERT_EQ(store.calibrating_count(), 1u);
    EXPECT_EQ(store.cases()[0].scores->sorted_lesion_probabilities, std::vector<float>{0.4f});
}

TEST(CaseStore, RefusesMisfitsAndKeepsWhatIsLoaded) {
    CaseStore store;
    ASSERT_TRUE(store.add("probs/a.nii", Role::probability, filled({2, 2, 2}, 0.4f), ""));
    const std::uint64_t generation = store.generation();
    auto shape = store.add("labels/a.nii", Role::label, filled({3, 2, 2}, 0.0f), "");
    ASSERT_FALSE(shape);
    EXPECT_EQ(shape.error().message,
              "labels/a.nii: is 3x2x2 but its case's probability map probs/a.nii is 2x2x2");
    auto twice = store.add("other/a.nii", Role::probability, filled({2, 2, 2}, 0.1f), "");
    ASSERT_FALSE(twice);
    EXPECT_NE(twice.error().message.find("already has a probability map"), std::string::npos);
    auto nan = store.add("probs/b.nii", Role::probability, filled({2, 2, 2}, std::nanf("")), "");
    ASSERT_FALSE(nan);
    EXPECT_NE(nan.error().message.find("probs/b.nii: probability map has 8 NaN"),
              std::string::npos);
    EXPECT_EQ(store.generation(), generation);
    ASSERT_EQ(store.cases().size(), 1u);
    EXPECT_EQ(store.cases()[0].volume(Role::probability)->data()[0], 0.4f);
}

TEST(CalibrationSession, RecalibratesOnSettingsAndMatchesTheCore) {
    CaseStore store;
    for (int i = 0; i < 9; ++i) {
        const std::string name = "c" + std::to_string(i);
        Volume label = filled({4, 1, 1}, 1.0f);
        Volume p({4, 1, 1}, Affine::Identity());
        for (int j = 0; j < 4; ++j) p.data()[j] = 0.05f * static_cast<float>(i + j + 1);
        ASSERT_TRUE(store.add("labels/" + name + ".nii", Role::label, label, "l" + name));
        ASSERT_TRUE(store.add("probs/" + name + ".nii", Role::probability, p, "p" + name));
    }
    CalibrationSession session;
    session.refresh(store);
    session.set_settings({.method = Method::cls, .epsilon = 0.25, .alpha = 0.2});
    ASSERT_TRUE(session.result());
    const std::vector<LesionScores> scores = store.calibration_scores();
    auto direct = calibrate(scores, {.method = Method::cls, .epsilon = 0.25, .alpha = 0.2});
    EXPECT_EQ(session.result()->threshold, direct->threshold);
    session.set_settings({.method = Method::cls, .epsilon = 0.25, .alpha = 0.05});
    ASSERT_FALSE(session.result());  // 9 cases are too few for alpha 0.05
    EXPECT_NE(session.result().error().message.find("at least 19"), std::string::npos);
    session.set_settings({.method = Method::crc, .epsilon = 0.25, .alpha = 0.2});
    ASSERT_TRUE(session.result());
    auto certificate = session.certificate(store);
    ASSERT_TRUE(certificate);
    EXPECT_EQ(certificate->inputs[3].probabilities_sha256, "pc3");
}

}  // namespace
}  // namespace cls::app
