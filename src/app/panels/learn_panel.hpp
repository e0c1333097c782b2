// The Learn tab, for people learning conformal risk control: the sorted critical thresholds
// with the k-th marked, k = floor((n+1) alpha) and tau filled in as the sliders move, and the
// shown case held out: calibrated on the others, its FNR curve crossing epsilon at tau.
#pragma once

#include "panel.hpp"

namespace cls::app {

struct LearnPanel {
    void draw(Session& session, PanelContext& ui);
};

}  // namespace cls::app
