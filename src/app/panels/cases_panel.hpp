// The Cases panel: open files or a demo, clear, loading progress with cancel, the loaded cases
// (I, L, P, M: which of image, label, probability map and region mask each has) to pick from,
// each case unlike the calibration set flagged with its p-value, what is lesion, and the
// errors and notes of what was loaded.
#pragma once

#include "panel.hpp"

namespace cls::app {

struct CasesPanel {
    void draw(Session& session, PanelContext& ui);
};

}  // namespace cls::app
