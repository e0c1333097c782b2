// Evaluation reports as JSON, CSV and text, and the paper suite's files, on synthetic cases.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cls/report/evaluation_plots.hpp"
#include "cls/report/evaluation_report.hpp"
#include "cls/report/paper_suite.hpp"
#include "synthetic_cases.hpp"

namespace cls::report {
namespace {

EvaluationSet demo_set(std::size_t cases) {
    return *EvaluationSet::create(testing::synthetic_cases(11, cases, {.empty_mask_share = 0.15}),
                                  EmptyMaskPolicy::satisfied);
}

EvaluationReport demo_report() {
    EvaluationSettings s;
    s.methods = {EvaluationMethod::fixed, EvaluationMethod::cls, EvaluationMethod::crc,
                 EvaluationMethod::mondrian};
    s.epsilon = 0.2;
    s.alpha = 0.2;
    s.splits = 20;
    s.mondrian = *parse_mondrian_rule("lesion-voxels:30");
    return *evaluate(demo_set(60), s);
}

TEST(EvaluationReport, JsonHasTheDocumentedLayout) {
    const EvaluationReport r = demo_report();
    const nlohmann::json j = nlohmann::json::parse(to_json(r));
    EXPECT_EQ(j["format"], "cls-evaluation");
    EXPECT_EQ(j["splits"], 20);
    EXPECT_EQ(j["n_cal"], 30);
    EXPECT_EQ(j["n_test"], 30);
    EXPECT_EQ(j["epsilon"], 0.2);
    EXPECT_EQ(j["mondrian"], "lesion-voxels:30");
    for (const char* method : {"fixed", "cls", "crc", "mondrian"}) {
        const auto& m = j["methods"][method];
        for (const MetricField& f : split_metric_fields()) {
            ASSERT_TRUE(m.contains(std::string(f.name))) << method << " " << f.name;
            ASSERT_TRUE(m["spread"].contains(std::string(f.name)));
        }
        EXPECT_EQ(m["groups"].size(), 2u);
        EXPECT_EQ(m["groups"][0]["name"], "lesion-voxels < 30");
    }
    const MethodReport& cls = *r.find(EvaluationMethod::cls);
    EXPECT_EQ(j["methods"]["cls"]["coverage"].get<double>(),
              summarize(cls.splits, &SplitMetrics::coverage).mean);
    EXPECT_EQ(j["methods"]["cls"]["spread"]["coverage"]["p95"].get<double>(),
              summarize(cls.splits, &SplitMetrics::coverage).p95);
    EXPECT_TRUE(j["methods"]["mondrian"]["threshold"].is_null());  // one per group
    EXPECT_EQ(j["methods"]["fixed"]["threshold"], 0.5);
}

TEST(EvaluationReport, CsvAndTextCoverEveryMethodAndGroup) {
    const EvaluationReport r = demo_report();
    const std::string csv = to_csv(r);
    const std::size_t lines = static_cast<std::size_t>(std::count(csv.begin(), csv.end(), '\n'));
    // A header, then one row per metric for each method and each of its two groups.
    EXPECT_EQ(lines, 1 + 4 * 3 * split_metric_fields().size());
    EXPECT_NE(csv.find("\nmondrian,,threshold,,,,\n"), std::string::npos);  // NaN: empty
    const std::string text = to_text(r);
    EXPECT_NE(text.find("60 cases ("), std::string::npos);
    EXPECT_NE(text.find("  lesion-voxels >= 30"), std::string::npos);
    EXPECT_NE(text.find("per group"), std::string::npos);
    EXPECT_NE(text.find("mondrian promises P(FNR <= 0.2 | group) >= 0.8 in every group"),
              std::string::npos);
    const std::vector<ReportFile> plots = evaluation_plots(r);
    ASSERT_EQ(plots.size(), 2u);
    EXPECT_EQ(plots[0].name, "coverage_by_split.svg");
}

TEST(PaperSuite, WritesEveryTableAndChartAndSaysWhatItLeftOut) {
    PaperSuiteSettings settings;
    settings.splits = 5;
    std::size_t calls = 0, last_total = 0;
    auto files = paper_suite(demo_set(40), settings, [&](std::size_t done, std::size_t total) {
        ++calls;
        EXPECT_EQ(done, calls);
        last_total = total;
    });
    ASSERT_TRUE(files) << files.error().message;
    EXPECT_EQ(calls, last_total);
    std::vector<std::string> names;
    for (const ReportFile& f : *files) names.push_back(f.name);
    for (const char* expected :
         {"README.md", "table_fnr_missed.md", "table_fnr_missed.csv", "coverage_vs_alpha.svg",
          "fnr_fpr_scatter.svg", "compactness_heatmap.svg", "coverage_vs_calibration_share.svg",
          "table_beyond.md"}) {
        EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
    }
    const std::string& index = files->back().content;
    EXPECT_EQ(files->back().name, "README.md");
    // 20 calibration cases: alpha = 0.05 needs 19 + ... it has them; 0.1 of 40 at the share
    // 0.1 is 4 cases, too few for alpha = 0.1.
    EXPECT_NE(index.find("## Left out"), std::string::npos);
    EXPECT_NE(index.find("share 0.1: cls with alpha = 0.1 needs at least 9"), std::string::npos);
}

}  // namespace
}  // namespace cls::report
