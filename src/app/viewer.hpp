// The slice viewer: axial, coronal and sagittal views of one case in world orientation, with
// one view maximisable, a crosshair linked across views, window/level, zoom and pan, and a
// readout of the voxel under the crosshair. Conventions of 3D Slicer / ITK-SNAP / NiiVue:
//   wheel or Up/Down: move the slice      left click / drag: set the crosshair
//   right drag: window (x) and level (y)   Ctrl + wheel: zoom    middle or Shift + left drag: pan
//   double click: maximise / restore the view
// Slice buffers are rendered by slice_render (testable C++); this only draws and uploads.
// The viewer holds its case by CaseId, never by pointer: each entry point takes the case the
// caller has just looked up (the session's selected one), so cases arriving, leaving or moving
// in the store never leave it pointing at freed memory.
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
    // Each entry point shows `c` (nullptr: nothing). A new case puts the crosshair on its
    // lesion (or most probable voxel, or centre) and window/level at the image's 1st-99th
    // percentile; the same case with new files keeps its window, and its crosshair once the
    // user has moved it.
    // Draws the views into the current ImGui window's remaining space.
    void draw(Platform& platform, const OverlaySettings& overlays, const LoadedCase* c);
    // The overlay toggles and display options, drawn in a side panel.
    void draw_controls(OverlaySettings& overlays, const LoadedCase* c);
    void set_cursor(const LoadedCase* c, const Voxel& voxel);

    [[nodiscard]] CaseId shown() const { return shown_id_; }
    [[nodiscard]] const Voxel& cursor() const { return cursor_; }
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
    void draw_views(Platform& platform, const OverlaySettings& overlays);
    void draw_display_options(OverlaySettings& overlays);
    void draw_view(Platform& platform, View view, ImVec2 size);
    void handle_input(View view, const SliceGeometry& geometry, ImVec2 origin, float scale_x,
                      float scale_y);
    [[nodiscard]] SliceLayers layers() const;
    [[nodiscard]] const Volume* grid() const;
    // Makes `c` the case of this call; `case_` is valid until the call returns.
    void attach(const LoadedCase* c);
    void move_cursor(const Voxel& voxel);

    const LoadedCase* case_ = nullptr;  // during a call only
    CaseId shown_id_ = 0;
    std::uint64_t shown_revision_ = 0;
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
