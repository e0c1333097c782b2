// What evaluation keeps of one labelled case, and the case's metrics at any threshold from it
// alone: the sorted lesion probabilities (FNR, as calibration keeps them), the sorted
// background probabilities (false positives, hence FPR, Dice and compactness) and, per
// ground-truth lesion (26-connected component), its largest probability (a lesion is
// detected iff that maximum is >= t). Every metric is then a few binary searches, exactly
// equal to measure_case() on the volumes, so thousands of random splits need no volume.
// Memory is about 4 bytes a voxel (less for quantised maps, see sorted_probabilities.hpp).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "cls/calibration.hpp"
#include "cls/result.hpp"
#include "cls/sorted_probabilities.hpp"
#include "cls/volume.hpp"

namespace cls {

struct EvaluationCase {
    LesionScores lesion;  // name, voxel count and sorted lesion probabilities
    SortedProbabilities background;
    std::vector<float> sorted_lesion_maxima;  // one per ground-truth lesion, ascending

    [[nodiscard]] const std::string& name() const { return lesion.name; }
    [[nodiscard]] std::size_t voxels() const { return lesion.voxel_count; }
    [[nodiscard]] std::size_t lesion_voxels() const { return lesion.lesion_voxels(); }
    [[nodiscard]] std::size_t lesions() const { return sorted_lesion_maxima.size(); }
    [[nodiscard]] bool empty_mask() const { return lesion.empty_mask(); }
    // Voxels with p >= threshold: what a mask at that threshold predicts.
    [[nodiscard]] std::size_t predicted_voxels(double threshold) const;
    [[nodiscard]] std::size_t memory_bytes() const;
};

// One pass over a case (after validation, as collect_lesion_scores): probabilities and label
// must share a grid. Errors name `name`.
[[nodiscard]] Result<EvaluationCase> collect_evaluation_case(std::string name,
                                                             const Volume& probabilities,
                                                             const Volume& labels);

// A case's metrics at a threshold, with measure_case()'s conventions for empty sets.
struct CaseOutcome {
    std::size_t true_positives = 0;
    std::size_t false_positives = 0;
    std::size_t lesions_detected = 0;
    double fnr = 0.0;            // FN / lesion voxels; 0 for an empty mask
    double fpr = 0.0;            // FP / background voxels; 0 with no background
    double dice = 1.0;           // 2TP / (2TP + FP + FN); 1 when both are empty
    double compactness = 0.0;    // predicted voxels / all voxels
    double lesion_fnr = 0.0;     // undetected lesions / lesions; 0 with no lesion
    bool missed_lesion = false;  // a non-empty mask with FNR = 1
};

[[nodiscard]] CaseOutcome outcome_at(const EvaluationCase& c, double threshold);

}  // namespace cls
