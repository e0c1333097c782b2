#include "cls/evaluation_case.hpp"

#include <algorithm>
#include <cstdint>

#include "cls/components.hpp"
#include "cls/metrics.hpp"
#include "probability_sort.hpp"

namespace cls {
namespace {

double ratio(std::size_t numerator, std::size_t denominator, double if_empty) {
    return denominator == 0 ? if_empty
                            : static_cast<double>(numerator) / static_cast<double>(denominator);
}

std::size_t count_below(std::span<const float> sorted, double threshold) {
    return static_cast<std::size_t>(std::lower_bound(sorted.begin(), sorted.end(), threshold,
                                                     [](float p, double t) { return p < t; }) -
                                    sorted.begin());
}

// Each 26-connected lesion's largest probability, sorted.
std::vector<float> lesion_maxima(const Volume& probabilities, const Volume& labels) {
    std::vector<std::uint8_t> lesion(labels.voxel_count());
    for (std::size_t i = 0; i < lesion.size(); ++i) lesion[i] = labels.data()[i] != 0.0f;
    const Components components = label_components(lesion, labels.dims());
    std::vector<float> maxima(static_cast<std::size_t>(components.count), 0.0f);
    for (std::size_t i = 0; i < lesion.size(); ++i) {
        if (const std::int32_t id = components.labels[i]; id != 0) {
            float& m = maxima[static_cast<std::size_t>(id - 1)];
            m = std::max(m, probabilities.data()[i] + 0.0f);
        }
    }
    std::sort(maxima.begin(), maxima.end());
    return maxima;
}

}  // namespace

std::size_t EvaluationCase::predicted_voxels(double threshold) const {
    return lesion_voxels() - count_below(lesion.sorted_lesion_probabilities, threshold) +
           background.count_at_least(threshold);
}

std::size_t EvaluationCase::memory_bytes() const {
    return sizeof(EvaluationCase) + lesion.name.capacity() +
           lesion.sorted_lesion_probabilities.capacity() * sizeof(float) +
           background.memory_bytes() + sorted_lesion_maxima.capacity() * sizeof(float);
}

Result<EvaluationCase> collect_evaluation_case(std::string name, const Volume& probabilities,
                                               const Volume& labels) {
    if (Status grids = check_case_grid(name, probabilities, labels); !grids) return grids.error();
    auto scores = collect_lesion_scores(std::move(name), probabilities.values(), labels.values());
    if (!scores) return scores.error();
    EvaluationCase result{std::move(*scores), {}, {}};

    // Probabilities are valid now; keep the background ones ("+ 0" makes -0 into +0, as the
    // bit sort needs), branch-free as in collect_lesion_scores.
    std::vector<float> background(probabilities.voxel_count() - result.lesion_voxels() + 1);
    std::size_t k = 0;
    for (std::size_t i = 0; i < probabilities.voxel_count(); ++i) {
        background[k] = probabilities.data()[i] + 0.0f;
        k += labels.data()[i] == 0.0f;
    }
    background.pop_back();
    detail::sort_probabilities(background);
    result.background = SortedProbabilities(std::move(background));
    if (!result.empty_mask()) result.sorted_lesion_maxima = lesion_maxima(probabilities, labels);
    return result;
}

CaseOutcome outcome_at(const EvaluationCase& c, double threshold) {
    CaseOutcome o;
    const std::size_t lesion_voxels = c.lesion_voxels();
    const std::size_t false_negatives =
        count_below(c.lesion.sorted_lesion_probabilities, threshold);
    o.true_positives = lesion_voxels - false_negatives;
    o.false_positives = c.background.count_at_least(threshold);
    o.lesions_detected = c.lesions() - count_below(c.sorted_lesion_maxima, threshold);
    const VoxelRates rates =
        voxel_rates({c.voxels(), lesion_voxels, o.true_positives, o.false_positives});
    o.fnr = rates.fnr;
    o.fpr = rates.fpr;
    o.dice = rates.dice;
    o.compactness = rates.compactness;
    o.missed_lesion = rates.missed_lesion;
    o.lesion_fnr = ratio(c.lesions() - o.lesions_detected, c.lesions(), 0.0);
    return o;
}

}  // namespace cls
