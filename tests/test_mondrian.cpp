// Mondrian grouping rules: parsing, errors, and the group each case falls in.
#include <gtest/gtest.h>

#include "cls/mondrian.hpp"

namespace cls {
namespace {

EvaluationCase make_case(std::size_t lesion_voxels, std::vector<float> background) {
    EvaluationCase c;
    c.lesion = {"c", lesion_voxels + background.size(), std::vector<float>(lesion_voxels, 0.7f)};
    c.background = SortedProbabilities(std::move(background));
    return c;
}

TEST(Mondrian, ParsesRulesAndNamesGroups) {
    auto rule = parse_mondrian_rule("lesion-voxels:500");
    ASSERT_TRUE(rule);
    EXPECT_EQ(rule->feature, MondrianFeature::lesion_voxels);
    EXPECT_EQ(rule->cuts, (std::vector<std::size_t>{500}));
    EXPECT_EQ(rule->groups(), 2u);
    EXPECT_EQ(to_string(*rule), "lesion-voxels:500");
    EXPECT_EQ(mondrian_group_name(*rule, 0), "lesion-voxels < 500");
    EXPECT_EQ(mondrian_group_name(*rule, 1), "lesion-voxels >= 500");

    auto three = parse_mondrian_rule("predicted-voxels:10,200");
    ASSERT_TRUE(three);
    EXPECT_EQ(three->groups(), 3u);
    EXPECT_EQ(mondrian_group_name(*three, 1), "10 <= predicted-voxels < 200");
    EXPECT_EQ(to_string(*three), "predicted-voxels:10,200");
}

TEST(Mondrian, RefusesMalformedRules) {
    for (const char* bad : {"lesion-voxels", "size:5", "lesion-voxels:", "lesion-voxels:5,5",
                            "lesion-voxels:-3", "lesion-voxels:5x", "lesion-voxels:9,3"}) {
        auto rule = parse_mondrian_rule(bad);
        ASSERT_FALSE(rule) << bad;
        EXPECT_NE(rule.error().message.find("Mondrian rule '" + std::string(bad) + "'"),
                  std::string::npos);
        EXPECT_NE(rule.error().message.find("e.g. predicted-voxels:500"), std::string::npos);
    }
}

TEST(Mondrian, GroupsByTheFeature) {
    const MondrianRule by_lesion = *parse_mondrian_rule("lesion-voxels:3");
    EXPECT_EQ(mondrian_group(by_lesion, make_case(2, {0.9f})), 0u);
    EXPECT_EQ(mondrian_group(by_lesion, make_case(3, {})), 1u);  // the cut opens the upper group
    // Predicted voxels count p >= 0.5 in lesion and background: 2 + 2 here.
    const MondrianRule by_prediction = *parse_mondrian_rule("predicted-voxels:4,5");
    const EvaluationCase c = make_case(2, {0.1f, 0.5f, 0.9f});
    EXPECT_EQ(mondrian_feature(by_prediction, c), 4u);
    EXPECT_EQ(mondrian_group(by_prediction, c), 1u);
}

}  // namespace
}  // namespace cls
