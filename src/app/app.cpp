#include "app.hpp"

#include "session_state.hpp"

namespace cls::app {
namespace {

constexpr float kSidePanelWidth = 430.0f;

}  // namespace

void App::step() { session_.step(frame_budget_); }

void App::frame() {
    step();
    overlays_.tau = session_.threshold();
    overlays_.region = session_.region();

    const ImGuiViewport* viewport = ImGui::GetMainViewport();
    ImGui::SetNextWindowPos(viewport->WorkPos);
    ImGui::SetNextWindowSize(viewport->WorkSize);
    ImGui::Begin("CLS Studio", nullptr,
                 ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
                     ImGuiWindowFlags_NoBringToFrontOnFocus);
    ImGui::BeginChild("side", {kSidePanelWidth, 0}, true);
    draw_side_bar();
    ImGui::EndChild();
    ImGui::SameLine();
    ImGui::BeginChild("views");
    // Looked up now, after the panels: a click there may have cleared the cases.
    viewer_.draw(platform_, overlays_, session_.cases().find(session_.selected()));
    ImGui::EndChild();
    lesion_picker_.draw(session_, ui_);
    ImGui::End();
}

void App::draw_side_bar() {
    cases_panel_.draw(session_, ui_);
    model_panel_.draw(session_, ui_);
    if (!ImGui::BeginTabBar("tabs")) return;
    if (ImGui::BeginTabItem("Calibrate")) {
        tab_ = "calibrate";
        calibration_panel_.draw(session_, ui_);
        export_panel_.draw(session_, ui_);
        if (ImGui::CollapsingHeader("Display", ImGuiTreeNodeFlags_DefaultOpen))
            viewer_.draw_controls(overlays_, session_.cases().find(session_.selected()));
        ImGui::EndTabItem();
    }
    const bool validate = ImGui::BeginTabItem("Validate");
    rects_.remember("validate_tab");
    if (validate) {
        tab_ = "validate";
        validate_panel_.draw(session_, ui_);
        ImGui::EndTabItem();
    }
    const bool learn = ImGui::BeginTabItem("Learn");
    rects_.remember("learn_tab");
    if (learn) {
        tab_ = "learn";
        learn_panel_.draw(session_, ui_);
        ImGui::EndTabItem();
    }
    ImGui::EndTabBar();
}

void App::select_case(const std::string& name) {
    if (Status selected = session_.select_case(name); !selected)
        session_.report_error(selected.error().message);
}

void App::set_cursor(const Voxel& voxel) {
    viewer_.set_cursor(session_.cases().find(session_.selected()), voxel);
}

void App::export_mask() { download(platform_, session_.mask_file(session_.selected())); }

void App::export_certificate() { download(platform_, session_.certificate_file()); }

void App::export_probability_map() {
    download(platform_, session_.probability_file(session_.selected()));
}

std::string App::state_json() {
    nlohmann::json state = session_state(session_);
    state["cursor"] = viewer_.cursor();
    state["radiological"] = viewer_.radiological();
    state["view_rects"] = viewer_.view_rects();
    state["redraw_ms"] = viewer_.last_redraw_ms();
    state["ui_rects"] = rects_.all();
    state["tab"] = tab_;
    // Replace, never throw, on file names that are not valid UTF-8.
    return state.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace cls::app
