// The Cases panel: open files or a demo, clear, loading progress with cancel, the loaded cases
// (I, L, P: which of image, label and probability map each has) to pick from, what is lesion,
// and the errors and notes of what was loaded.
#pragma once

#include "panel.hpp"

namespace cls::app {

struct CasesPanel {
    void draw(Session& session, PanelContext& ui);
};

}  // namespace cls::app
