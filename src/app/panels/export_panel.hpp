// Export and import: the shown case's mask at tau (.nii.gz) and probability map (.nii, the bytes
// certificates hash), the calibration certificate in the CLI's format, and the calibrations kept
// in this browser (use, export, forget). Certificates are imported by opening or dropping them.
#pragma once

#include "panel.hpp"

namespace cls::app {

struct ExportPanel {
    void draw(Session& session, PanelContext& ui);

private:
    void draw_kept(Session& session, PanelContext& ui);
};

// Hands an output to the user, if there is one.
void download(Platform& platform, const std::optional<OutputFile>& file);

}  // namespace cls::app
