#include "set_aside_outcomes.hpp"

#include <algorithm>
#include <cmath>

namespace cls::app {

std::optional<SetAsideOutcome> SetAsideOutcomes::outcome(const CaseStore& store,
                                                         const LoadedCase& c, double threshold) {
    if (!c.set_aside || !c.labelled() || c.volume(Role::label) == nullptr) return std::nullopt;
    auto it = std::find_if(reduced_.begin(), reduced_.end(),
                           [&](const Reduced& r) { return r.id == c.id; });
    if (it == reduced_.end() || it->revision != c.revision || it->region != store.region()) {
        // Cases gone from the store, or back in calibration, hold memory: drop them while here.
        std::erase_if(reduced_, [&](const Reduced& r) {
            const LoadedCase* kept = store.find(r.id);
            return kept == nullptr || !kept->set_aside;
        });
        std::optional<Volume> scratch;
        std::optional<EvaluationCase> reduced;
        if (const Volume* map = store.calibration_map(c, scratch)) {
            if (auto collected = collect_evaluation_case(c.name, *map, *c.volume(Role::label)))
                reduced = std::move(*collected);
        }
        std::erase_if(reduced_, [&](const Reduced& r) { return r.id == c.id; });
        reduced_.push_back({c.id, c.revision, store.region(), std::move(reduced)});
        it = std::prev(reduced_.end());
    }
    if (!it->reduced) return std::nullopt;
    const EvaluationCase& e = *it->reduced;
    SetAsideOutcome result;
    result.lesion_voxels = e.lesion_voxels();
    result.predicted_at_half = e.predicted_voxels(0.5);
    result.at_half = outcome_at(e, 0.5);
    if (std::isfinite(threshold)) {
        result.predicted_at_threshold = e.predicted_voxels(threshold);
        result.at_threshold = outcome_at(e, threshold);
    }
    return result;
}

}  // namespace cls::app
