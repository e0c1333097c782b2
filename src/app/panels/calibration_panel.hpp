// The Calibrate tab's first panel: epsilon, alpha, method and empty-mask policy, tau with k of
// n and the guarantee in words; the FNR curve of every calibration case, the histogram of the
// critical thresholds and the per-case table (click a row to show the case). With an imported
// certificate, what it is and how many loaded cases it was calibrated on. The region of interest
// and the level at which cases unlike the calibration set are flagged (shown in the cases
// panel).
#pragma once

#include "panel.hpp"

namespace cls::app {

struct CalibrationPanel {
    void draw(Session& session, PanelContext& ui);

private:
    void draw_plots(Session& session, PanelContext& ui);
    void draw_region(Session& session, PanelContext& ui);
    static void draw_guarantee_in_words(const Calibration& calibration);
    void draw_case_table(Session& session);
    static void draw_set_aside_table(Session& session);
};

}  // namespace cls::app
