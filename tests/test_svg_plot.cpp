// SVG charts: tick choice, what is drawn for each mark and legend entry, escaping, skipped
// non-finite points and byte-identical output. (tests/cli/test_cli.py parses the files the
// CLI writes with Python's XML parser.)
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "cls/report/svg_plot.hpp"

namespace cls::report {
namespace {

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
        ++n;
    }
    return n;
}

TEST(NiceTicks, AreRoundNumbersInsideTheRange) {
    const std::vector<double> unit = nice_ticks(0.0, 1.0, 6);
    ASSERT_EQ(unit.size(), 6u);  // 0, 0.2, ..., 1
    for (std::size_t i = 0; i < unit.size(); ++i) EXPECT_NEAR(unit[i], 0.2 * i, 1e-12);
    // A range of 0.074 over about 6 ticks: the step is the next of 1, 2, 5 x 10^k above
    // 0.074 / 6, i.e. 0.02, and ticks stay inside the range.
    const std::vector<double> ticks = nice_ticks(0.013, 0.087, 6);
    ASSERT_EQ(ticks.size(), 4u);
    EXPECT_NEAR(ticks.front(), 0.02, 1e-12);
    EXPECT_NEAR(ticks.back(), 0.08, 1e-12);
    EXPECT_EQ(nice_ticks(3.0, 3.0).size(), 1u);
}

Chart sample_chart() {
    Chart chart;
    chart.title = "Coverage <against> alpha & more";
    chart.x = {"alpha", 0.0, 1.0};
    chart.y = {"coverage", std::nullopt, std::nullopt};
    chart.series.push_back(
        {"CLS", {0.1, 0.2, 0.3}, {0.9, NAN, 0.7}, Mark::line_and_points, "", false, 1.0});
    chart.series.push_back({"", {0.0, 1.0}, {1.0, 0.0}, Mark::line, "#333333", true, 1.0});
    chart.series.push_back({"cases", {0.5}, {0.5}, Mark::points, "", false, 0.5});
    return chart;
}

TEST(SvgChart, DrawsMarksLegendAndEscapedText) {
    const std::string svg = render_svg(sample_chart());
    EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
    EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
    EXPECT_NE(svg.find("Coverage &lt;against&gt; alpha &amp; more"), std::string::npos);
    // The NaN splits the CLS line into two single points: no polyline for it, 2 + 1 circles,
    // plus one legend marker each for CLS and "cases"; the dashed line has its polyline.
    EXPECT_EQ(count(svg, "<polyline"), 1u);
    EXPECT_EQ(count(svg, "stroke-dasharray"), 1u);
    EXPECT_EQ(count(svg, "<circle"), 3u + 2u);
    EXPECT_EQ(count(svg, ">CLS</text>"), 1u);
    EXPECT_EQ(count(svg, ">cases</text>"), 1u);
    EXPECT_EQ(count(svg, "fill-opacity=\"0.50\""), 1u);
    EXPECT_EQ(svg, render_svg(sample_chart()));  // deterministic
    EXPECT_EQ(svg.find("nan"), std::string::npos);
}

TEST(SvgHeatMap, ColoursCellsAndMarksMissingOnes) {
    HeatMap map;
    map.title = "grid";
    map.columns = {"0.1", "0.2"};
    map.rows = {"a", "b"};
    map.values = {0.0, 1.0, NAN, 0.5};
    const std::string svg = render_svg(map);
    EXPECT_NE(svg.find("fill=\"#440154\""), std::string::npos);  // viridis at the minimum
    EXPECT_NE(svg.find("fill=\"#fde725\""), std::string::npos);  // and at the maximum
    EXPECT_EQ(count(svg, ">n/a</text>"), 1u);
    EXPECT_NE(svg.find(">0.500</text>"), std::string::npos);
    EXPECT_EQ(svg.find("nan"), std::string::npos);
}

}  // namespace
}  // namespace cls::report
