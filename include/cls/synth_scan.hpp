// FLAIR-like synthetic scans with lesion labels, to train and test a segmentation network
// (scripts/train_model.py trains the bundled model on them). A case is a smooth head:
// textured brain tissue with a brighter cortical ribbon, dark fluid (ventricles and a rim),
// a dark skull and a brighter scalp, a smooth multiplicative bias field, an arbitrary
// intensity scale and Rician noise (the magnitude of complex Gaussian noise). It holds 0–5
// blobby lesions of radius about 1–9 voxels at low to high contrast, kept inside tissue, and
// bright non-lesion mimics (vessel-like tubes, cortical patches, small bright dots); about
// 15% of cases have no lesion. Small and low-contrast lesions are hard on purpose, so a
// network trained on these scans misses some of them: that is what calibration is for.
// Each case depends only on (seed, index), like synth_case (cls/synth.hpp), on the same
// grid: 1 mm voxels, RAS+, centred on the world origin.
// [X] cubic volumes, one modality
// [ ] anisotropic spacing, multiple modalities
#pragma once

#include <string>

#include "cls/synth.hpp"
#include "cls/volume.hpp"

namespace cls {

struct SynthScan {
    std::string name;  // "case_000", ...
    Volume image;      // arbitrary positive intensity scale, like a scanner's
    Volume label;      // 0 / 1
};

[[nodiscard]] SynthScan synth_scan(const SynthSettings& settings, int index);

}  // namespace cls
