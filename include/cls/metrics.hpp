// Per-case segmentation metrics of a thresholded probability map against its label:
// voxel FNR, FPR, Dice, precision, compactness, the missed-lesion flag and lesion-wise
// detection (26-connected ground-truth lesions, found if any voxel is predicted).
// Conventions for empty sets are stated per field so tables never hold NaN.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>

#include "cls/result.hpp"
#include "cls/volume.hpp"

namespace cls {

struct CaseMetrics {
    std::string name;
    std::size_t voxels = 0;
    std::size_t lesion_voxels = 0;     // label != 0
    std::size_t predicted_voxels = 0;  // p >= threshold
    std::size_t true_positives = 0;
    double fnr = 0.0;                  // FN / lesion voxels; 0 for an empty mask
    double fpr = 0.0;                  // FP / background voxels; 0 with no background
    double dice = 1.0;                 // 2TP / (2TP + FP + FN); 1 when both are empty
    std::optional<double> precision;   // TP / predicted; none when nothing is predicted
    double compactness = 0.0;          // predicted voxels / all voxels
    bool missed_lesion = false;        // a non-empty mask with FNR = 1
    std::size_t lesions = 0;           // ground-truth connected components
    std::size_t lesions_detected = 0;  // of those, with at least one predicted voxel

    [[nodiscard]] bool has_lesion() const { return lesion_voxels > 0; }
};

// One case's voxel counts at a threshold, and the rates they give under this module's
// conventions for empty sets; measure_case and evaluation (outcome_at) both go through here.
struct VoxelCounts {
    std::size_t voxels = 0;
    std::size_t lesion_voxels = 0;
    std::size_t true_positives = 0;
    std::size_t false_positives = 0;
};
struct VoxelRates {
    double fnr = 0.0;
    double fpr = 0.0;
    double dice = 1.0;
    double compactness = 0.0;
    bool missed_lesion = false;
};
[[nodiscard]] VoxelRates voxel_rates(const VoxelCounts& counts);

// Refuses a probability map and label that do not share a grid (dimensions and affine),
// naming the case: they are compared voxel by voxel. The rule is check_same_grid's.
[[nodiscard]] Status check_case_grid(const std::string& name, const Volume& probabilities,
                                     const Volume& labels);

// Measures one case; `probabilities` and `labels` must share a grid (the error says so).
[[nodiscard]] Result<CaseMetrics> measure_case(std::string name, const Volume& probabilities,
                                               const Volume& labels, double threshold);

}  // namespace cls
