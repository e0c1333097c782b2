#include "cls/metrics.hpp"

#include <vector>

#include "cls/calibration.hpp"
#include "cls/components.hpp"

namespace cls {
namespace {

double ratio(std::size_t numerator, std::size_t denominator, double if_empty) {
    return denominator == 0 ? if_empty
                            : static_cast<double>(numerator) / static_cast<double>(denominator);
}

}  // namespace

VoxelRates voxel_rates(const VoxelCounts& c) {
    const std::size_t false_negatives = c.lesion_voxels - c.true_positives;
    const std::size_t predicted = c.true_positives + c.false_positives;
    return {.fnr = ratio(false_negatives, c.lesion_voxels, 0.0),
            .fpr = ratio(c.false_positives, c.voxels - c.lesion_voxels, 0.0),
            .dice = ratio(2 * c.true_positives,
                          2 * c.true_positives + c.false_positives + false_negatives, 1.0),
            .compactness = ratio(predicted, c.voxels, 0.0),
            .missed_lesion = c.lesion_voxels > 0 && c.true_positives == 0};
}

Status check_case_grid(const std::string& name, const Volume& probabilities, const Volume& labels) {
    if (Status grid = check_same_grid(labels, probabilities, "its probability map"); !grid) {
        return make_error("label " + grid.error().message).in(name);
    }
    return Done{};
}

Result<CaseMetrics> measure_case(std::string name, const Volume& probabilities,
                                 const Volume& labels, double threshold) {
    if (Status grids = check_case_grid(name, probabilities, labels); !grids) return grids.error();
    const std::vector<std::uint8_t> predicted = predict_mask(probabilities.values(), threshold);
    std::vector<std::uint8_t> lesion(labels.voxel_count());
    for (std::size_t i = 0; i < lesion.size(); ++i) lesion[i] = labels.data()[i] != 0.0f;

    CaseMetrics m;
    m.name = std::move(name);
    m.voxels = predicted.size();
    for (std::size_t i = 0; i < predicted.size(); ++i) {
        m.lesion_voxels += lesion[i];
        m.predicted_voxels += predicted[i];
        m.true_positives += lesion[i] & predicted[i];
    }
    const VoxelRates rates = voxel_rates(
        {m.voxels, m.lesion_voxels, m.true_positives, m.predicted_voxels - m.true_positives});
    m.fnr = rates.fnr;
    m.fpr = rates.fpr;
    m.dice = rates.dice;
    m.compactness = rates.compactness;
    m.missed_lesion = rates.missed_lesion;
    if (m.predicted_voxels > 0) m.precision = ratio(m.true_positives, m.predicted_voxels, 0.0);

    const Components lesions = label_components(lesion, labels.dims());
    m.lesions = static_cast<std::size_t>(lesions.count);
    std::vector<bool> detected(m.lesions + 1, false);
    for (std::size_t i = 0; i < predicted.size(); ++i) {
        if (predicted[i] && lesions.labels[i] != 0) detected[lesions.labels[i]] = true;
    }
    for (std::size_t id = 1; id <= m.lesions; ++id) m.lesions_detected += detected[id];
    return m;
}

}  // namespace cls
