#include "panel.hpp"

#include <imgui.h>

namespace cls::app {

void UiRects::remember(const std::string& name) {
    const ImVec2 min = ImGui::GetItemRectMin(), max = ImGui::GetItemRectMax();
    rects_[name] = {min.x, min.y, max.x - min.x, max.y - min.y};
}

void wrapped_text(ImU32 colour, const std::string& text) {
    ImGui::PushStyleColor(ImGuiCol_Text, colour);
    ImGui::TextWrapped("%s", text.c_str());
    ImGui::PopStyleColor();
}

}  // namespace cls::app
