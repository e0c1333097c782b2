// Evaluation cases drawn directly (no volumes) for the statistical tests: exchangeable, with
// continuous probabilities, so that critical thresholds do not tie and the conformal bounds
// are exact. Only +, * and cls::Random are used, so the same cases arise on every platform.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "cls/evaluation_case.hpp"
#include "cls/random.hpp"

namespace cls::testing {

struct SyntheticShape {
    std::size_t max_lesion_voxels = 60;
    std::size_t max_lesions = 4;
    std::size_t background_voxels = 300;
    double empty_mask_share = 0.0;
};

inline EvaluationCase synthetic_case(Random& rng, std::size_t index, const SyntheticShape& shape) {
    // The case's quality shifts its lesion probabilities up; weak cases have low ones.
    const double quality = rng.uniform(0.1, 0.9);
    const bool empty = rng.uniform() < shape.empty_mask_share;
    const std::size_t m = empty ? 0 : 1 + rng.below(shape.max_lesion_voxels);
    const std::size_t lesions = m == 0 ? 0 : 1 + rng.below(std::min(m, shape.max_lesions));
    std::vector<float> lesion(m), maxima(lesions, 0.0f);
    for (std::size_t i = 0; i < m; ++i) {
        const double u = rng.uniform();
        lesion[i] = static_cast<float>(quality * u + (1.0 - quality) * u * u);
        // Every lesion gets at least one voxel, then the rest at random.
        const std::size_t id = i < lesions ? i : rng.below(lesions);
        maxima[id] = std::max(maxima[id], lesion[i]);
    }
    std::vector<float> background(shape.background_voxels);
    for (float& p : background) {
        const double u = rng.uniform();
        p = static_cast<float>(0.8 * u * u * u);
    }
    std::sort(lesion.begin(), lesion.end());
    std::sort(maxima.begin(), maxima.end());
    std::sort(background.begin(), background.end());
    EvaluationCase c;
    c.lesion = {"case_" + std::to_string(index), m + background.size(), std::move(lesion)};
    c.background = SortedProbabilities(std::move(background));
    c.sorted_lesion_maxima = std::move(maxima);
    return c;
}

inline std::vector<EvaluationCase> synthetic_cases(std::uint64_t seed, std::size_t count,
                                                   const SyntheticShape& shape = {}) {
    Random rng(seed);
    std::vector<EvaluationCase> cases;
    for (std::size_t i = 0; i < count; ++i) cases.push_back(synthetic_case(rng, i, shape));
    return cases;
}

}  // namespace cls::testing
