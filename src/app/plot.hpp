// Minimal plotting on an ImGui draw list: a framed area with data coordinates, axis ticks and
// labels, lines, markers and bars. Enough for FNR curves and threshold histograms without a
// plotting dependency.
#pragma once

#include <string>

#include "imgui.h"

namespace cls::app {

class Plot {
public:
    // Reserves `size` pixels in the current window for data x in [x0, x1], y in [y0, y1].
    Plot(const char* id, ImVec2 size, double x0, double x1, double y0, double y1,
         const char* x_label, const char* y_label);

    [[nodiscard]] ImVec2 at(double x, double y) const;
    void line(double xa, double ya, double xb, double yb, ImU32 colour,
              float thickness = 1.0f) const;
    void vertical(double x, ImU32 colour, const char* label) const;
    void horizontal(double y, ImU32 colour, const char* label) const;
    void bar(double x_left, double x_right, double height, ImU32 colour) const;
    void marker(double x, double y, ImU32 colour, float radius = 2.5f) const;
    [[nodiscard]] ImDrawList* draw_list() const { return draw_; }
    // Data coordinates under the mouse, if it is over the plot.
    [[nodiscard]] bool hovered(double& x, double& y) const;

private:
    ImDrawList* draw_;
    ImVec2 min_, max_;
    double x0_, x1_, y0_, y1_;
};

}  // namespace cls::app
