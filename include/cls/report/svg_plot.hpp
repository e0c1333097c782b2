// Small, dependency-free SVG charts for evaluation reports: text in, text out, the same bytes
// on every platform (the CLI writes them to files, the browser could show them as they are).
// [X] line and scatter charts: axes with "nice" ticks and grid, labels, title, legend,
//     dashed reference lines, colour-blind-safe palette (Okabe–Ito)
// [X] heat maps over two categorical axes, with a colour bar (viridis) and cell values
// [ ] log axes, error bars, bar charts
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cls::report {

// The Okabe–Ito palette without its black, cycled.
[[nodiscard]] std::string_view palette_colour(std::size_t index);

enum class Mark { line, points, line_and_points };

struct Series {
    std::string label;         // legend entry; an empty label keeps the series out of the legend
    std::vector<double> x, y;  // non-finite points are skipped (a line breaks there)
    Mark mark = Mark::line_and_points;
    std::string colour;  // empty: the palette's next colour
    bool dashed = false;
    double point_opacity = 1.0;
};

struct Axis {
    std::string label;
    std::optional<double> min, max;  // default: the data's range, widened to whole ticks
};

enum class LegendPlace { top_left, top_right, bottom_left, bottom_right };

struct Chart {
    std::string title;
    std::string subtitle;  // a line of small print under the title (settings, n)
    Axis x, y;
    std::vector<Series> series;
    LegendPlace legend = LegendPlace::bottom_right;
    double width = 640;
    double height = 440;
};

[[nodiscard]] std::string render_svg(const Chart& chart);

struct HeatMap {
    std::string title;
    std::string subtitle;
    std::string x_label, y_label, value_label;
    std::vector<std::string> columns;  // x categories, left to right
    std::vector<std::string> rows;     // y categories, bottom to top
    std::vector<double> values;        // rows x columns, row by row; NaN: no value (grey)
    int decimals = 3;                  // of the numbers printed in the cells
    double width = 680;
    double height = 520;
};

[[nodiscard]] std::string render_svg(const HeatMap& map);

// Tick positions at 1, 2 or 5 times a power of ten, about `target` of them, within [lo, hi].
[[nodiscard]] std::vector<double> nice_ticks(double lo, double hi, int target = 6);

}  // namespace cls::report
