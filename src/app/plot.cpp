#include "plot.hpp"

#include <algorithm>
#include <cstdio>

namespace cls::app {
namespace {

constexpr ImU32 kAxis = IM_COL32(150, 150, 150, 255);
constexpr ImU32 kText = IM_COL32(200, 200, 200, 255);
constexpr float kLeftMargin = 34.0f, kBottomMargin = 30.0f, kTopMargin = 6.0f, kRightMargin = 8.0f;

}  // namespace

Plot::Plot(const char* id, ImVec2 size, double x0, double x1, double y0, double y1,
           const char* x_label, const char* y_label)
    : draw_(ImGui::GetWindowDrawList()), x0_(x0), x1_(x1), y0_(y0), y1_(y1) {
    const ImVec2 corner = ImGui::GetCursorScreenPos();
    ImGui::InvisibleButton(id, size);
    min_ = {corner.x + kLeftMargin, corner.y + kTopMargin};
    max_ = {corner.x + size.x - kRightMargin, corner.y + size.y - kBottomMargin};
    draw_->AddRect(min_, max_, kAxis);
    char text[32];
    for (int i = 0; i <= 4; ++i) {
        const double x = x0 + (x1 - x0) * i / 4.0, y = y0 + (y1 - y0) * i / 4.0;
        const ImVec2 px = at(x, y0), py = at(x0, y);
        draw_->AddLine(px, {px.x, px.y + 3}, kAxis);
        std::snprintf(text, sizeof text, "%.2g", x);
        draw_->AddText({px.x - 8, px.y + 3}, kText, text);
        draw_->AddLine({py.x - 3, py.y}, py, kAxis);
        std::snprintf(text, sizeof text, "%.2g", y);
        draw_->AddText({corner.x, py.y - 7}, kText, text);
    }
    draw_->AddText({(min_.x + max_.x) / 2 - 30, max_.y + 15}, kText, x_label);
    draw_->AddText({min_.x + 4, min_.y + 2}, kText, y_label);
}

ImVec2 Plot::at(double x, double y) const {
    const double u = std::clamp((x - x0_) / (x1_ - x0_), 0.0, 1.0);
    const double v = std::clamp((y - y0_) / (y1_ - y0_), 0.0, 1.0);
    return {static_cast<float>(min_.x + u * (max_.x - min_.x)),
            static_cast<float>(max_.y - v * (max_.y - min_.y))};
}

void Plot::line(double xa, double ya, double xb, double yb, ImU32 colour, float thickness) const {
    draw_->AddLine(at(xa, ya), at(xb, yb), colour, thickness);
}

void Plot::vertical(double x, ImU32 colour, const char* label) const {
    line(x, y0_, x, y1_, colour, 2.0f);
    const ImVec2 top = at(x, y1_);
    draw_->AddText({top.x + 3, top.y + 14}, colour, label);
}

void Plot::horizontal(double y, ImU32 colour, const char* label) const {
    line(x0_, y, x1_, y, colour, 2.0f);
    const ImVec2 right = at(x1_, y);
    draw_->AddText({right.x - 70, right.y - 15}, colour, label);
}

void Plot::bar(double x_left, double x_right, double height, ImU32 colour) const {
    draw_->AddRectFilled(at(x_left, height), at(x_right, y0_), colour);
}

void Plot::marker(double x, double y, ImU32 colour, float radius) const {
    draw_->AddCircleFilled(at(x, y), radius, colour);
}

bool Plot::hovered(double& x, double& y) const {
    const ImVec2 m = ImGui::GetIO().MousePos;
    if (m.x < min_.x || m.x > max_.x || m.y < min_.y || m.y > max_.y) return false;
    x = x0_ + (m.x - min_.x) / (max_.x - min_.x) * (x1_ - x0_);
    y = y0_ + (max_.y - m.y) / (max_.y - min_.y) * (y1_ - y0_);
    return true;
}

}  // namespace cls::app
