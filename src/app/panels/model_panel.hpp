// The Model panel: which model is loaded and how it fits its manifest, the form that prefills
// a manifest for a model that came without one, which execution provider runs and why, and
// inference progress with cancel and its options. The page runs each patch; C++ plans and
// blends (the Session's inference queue).
#pragma once

#include <array>

#include "panel.hpp"

namespace cls::app {

struct ModelPanel {
    void draw(Session& session, PanelContext& ui);

private:
    void draw_manifest_form(Session& session, PanelContext& ui);
    void draw_input_channels(inference::ModelManifest& draft);

    std::array<char, 256> modalities_{};  // the form's modality names, as typed
};

}  // namespace cls::app
