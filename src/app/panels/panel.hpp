// What every panel of the side bar gets besides the Session it reads and acts on: the platform
// (downloads, the file picker, the demos) and the registry of named widget rectangles the
// tests click (the canvas has no DOM). Panels are small structs with
// `draw(Session&, PanelContext&)`, in the manner of imgui_demo.cpp's example apps; what they
// remember is only how they are drawn (a form's text, a table's sort).
#pragma once

#include <array>
#include <map>
#include <string>

#include "platform.hpp"
#include "session.hpp"

namespace cls::app {

// Named widgets' screen rectangles (x, y, width, height), for tests.
class UiRects {
public:
    // The rectangle of the last item ImGui drew.
    void remember(const std::string& name);
    void set(const std::string& name, const std::array<float, 4>& rect) { rects_[name] = rect; }
    [[nodiscard]] const std::map<std::string, std::array<float, 4>>& all() const { return rects_; }

private:
    std::map<std::string, std::array<float, 4>> rects_;
};

struct PanelContext {
    Platform& platform;
    UiRects& rects;
};

// Coloured, wrapped text: warnings and errors in panels.
void wrapped_text(ImU32 colour, const std::string& text);
inline constexpr ImU32 kWarningColour = IM_COL32(255, 180, 80, 255);
inline constexpr ImU32 kErrorColour = IM_COL32(255, 110, 110, 255);

}  // namespace cls::app
