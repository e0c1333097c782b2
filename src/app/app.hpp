// CLS Studio's frame: the side bar's panels (cases, model, then the Calibrate, Validate and
// Learn tabs) and the slice viewer, drawn over one Session that holds every case, job and
// setting. `frame()` is called by the native loop or by emscripten_set_main_loop; it never
// blocks: the session advances a few milliseconds of loading and inference a frame, with
// progress and cancel. Everything reaches the platform through `Platform`.
#pragma once

#include <chrono>
#include <string>

#include "panels/calibration_panel.hpp"
#include "panels/cases_panel.hpp"
#include "panels/export_panel.hpp"
#include "panels/learn_panel.hpp"
#include "panels/lesion_picker.hpp"
#include "panels/model_panel.hpp"
#include "panels/panel.hpp"
#include "panels/validate_panel.hpp"
#include "platform.hpp"
#include "session.hpp"
#include "viewer.hpp"

namespace cls::app {

class App {
public:
    explicit App(Platform& platform) : platform_(platform), session_(platform) {}

    // The session's work for this frame (step), then the UI.
    void frame();
    // The session's work alone (loading, inference, validation, saving settings), for a frame
    // the page does not draw.
    void step();
    // Work per frame for the session (12 ms by default): enough to move fast, little enough to
    // keep the UI responsive. Tests lift it so that what a frame loads does not depend on how
    // busy the machine is.
    void set_frame_budget(std::chrono::milliseconds budget) { frame_budget_ = budget; }

    [[nodiscard]] Session& session() { return session_; }

    // What the UI adds to the session: the shown case, the crosshair, the outputs as downloads.
    void select_case(const std::string& name);
    void set_cursor(const Voxel& voxel);
    void export_mask();
    void export_certificate();
    void export_probability_map();

    // Everything a test needs to know (the session's state and the UI's), as JSON.
    [[nodiscard]] std::string state_json();

private:
    void draw_side_bar();

    Platform& platform_;
    Session session_;
    std::chrono::milliseconds frame_budget_{12};
    Viewer viewer_;
    OverlaySettings overlays_;
    UiRects rects_;
    PanelContext ui_{platform_, rects_};
    CasesPanel cases_panel_;
    ModelPanel model_panel_;
    CalibrationPanel calibration_panel_;
    ExportPanel export_panel_;
    ValidatePanel validate_panel_;
    LearnPanel learn_panel_;
    LesionPicker lesion_picker_;
    std::string tab_;  // the side bar's open tab
};

}  // namespace cls::app
