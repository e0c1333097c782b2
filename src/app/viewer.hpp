// The slice viewer: axial, coronal and sagittal views of one case in world orientation, with
// one view maximisable, a crosshair linked across views, window/level, zoom and pan, and a
// readout of the voxel under the crosshair. Conventions of 3D Slicer / ITK-SNAP / NiiVue:
//   wheel or Up/Down: move the slice      left click / drag: set the crosshair
//   right drag: window (x) and level (y)   Ctrl + wheel: zoom    middle or Shift + left drag: pan
//   double click: maximise / restore the view
// Slice buffers are rendered by slice_render (testable C++); this only draws and uploads.
#pragma once

#include <array>
#include <optional>
#include <string>

#include "case_store.hpp"
#include "platform.hpp"
#include "slice_geometry.hpp"
#include "slice_render.hpp"

namespace cls::app {

class Viewer {
public:
    // Shows `c` (nullptr: nothing). A new case puts the crosshair on its lesion (or most
    // probable voxel, or centre) and window/level at the image's 1st-99th percentile; the same
    // case (whose files changed, or which moved in the store) keeps its window, and its
    // crosshair once the user has moved it. Call again whenever the store changes.
    void show(const LoadedCase* c);
    [[nodiscard]] const LoadedCase* shown() const { return case_; }

    // Draws the views into the current ImGui window's remaining space.
    void draw(Platform& platform, const OverlaySettings& overlays);
    // The overlay toggles and display options, drawn in a side panel.
    void draw_controls(OverlaySettings& overlays);

    [[nodiscard]] const Voxel& cursor() const { return cursor_; }
    void set_cursor(const Voxel& voxel);
    [[nodiscard]] bool radiological() const { return radiological_; }
    void set_radiological(bool on) {
        radiological_ = on;
        dirty_ = true;
    }
    [[nodiscard]] std::optional<View> maximised() const { return maximised_; }
    void set_maximised(std::optional<View> view) { maximised_ = view; }
    // Screen rectangle (x, y, width, height) of each view's image, for tests that click it.
    [[nodiscard]] const std::array<std::array<float, 4>, 3>& view_rects() const { return rects_; }
    [[nodiscard]] std::string readout() const;
    // How long the last redraw of each view took (colouring and upload), in milliseconds.
    [[nodiscard]] const std::array<double, 3>& last_redraw_ms() const { return last_redraw_ms_; }

private:
    struct ViewState {
        float zoom = 1.0f;
        ImVec2 pan{0, 0};
        ImTextureID texture = nullptr;
        SliceImage image;
    };
    void draw_view(Platform& platform, View view, ImVec2 size);
    void handle_input(View view, const SliceGeometry& geometry, ImVec2 origin, float scale_x,
                      float scale_y);
    [[nodiscard]] SliceLayers layers() const;
    [[nodiscard]] const Volume* grid() const;

    const LoadedCase* case_ = nullptr;
    std::string case_name_;
    Voxel cursor_{0, 0, 0};
    bool cursor_moved_ = false;  // by the user, since the case was shown
    Window window_{0.5, 1.0};
    bool radiological_ = true;
    std::optional<View> maximised_;
    std::array<ViewState, 3> views_;
    std::array<std::array<float, 4>, 3> rects_{};
    OverlaySettings rendered_with_;
    std::array<double, 3> last_redraw_ms_{};
    bool dirty_ = true;
};

}  // namespace cls::app
