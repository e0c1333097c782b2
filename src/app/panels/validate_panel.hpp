// The Validate tab: repeated random calibration/test splits of the loaded labelled cases, as
// `cls evaluate` runs them, as a job with progress and cancel; coverage against alpha for each
// chosen method beside the bounds CLS must meet, and FNR against FPR per test case.
#pragma once

#include "panel.hpp"

namespace cls::app {

struct ValidatePanel {
    void draw(Session& session, PanelContext& ui);

    ValidationSettings settings;  // what the controls set; epsilon and alpha are the session's
};

}  // namespace cls::app
