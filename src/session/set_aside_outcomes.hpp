// How the masks of the cases set aside as new cases do against their labels: at the threshold
// in force and at 0.5, the cut a segmentation is usually shown at. A case set aside is checked
// like any new case, so this is what a held-out test set shows a user: whether the promise
// held for it, and what a mask at tau costs in volume against one at 0.5.
// Each case is reduced once (cls::EvaluationCase, on its map restricted to the region) and its
// metrics at any threshold are then binary searches, so a slider moves freely.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "case_store.hpp"
#include "cls/evaluation_case.hpp"

namespace cls::app {

struct SetAsideOutcome {
    std::size_t lesion_voxels = 0;
    std::size_t predicted_at_threshold = 0;  // 0 when there is no threshold
    std::size_t predicted_at_half = 0;
    std::optional<CaseOutcome> at_threshold;  // none when there is no threshold
    CaseOutcome at_half;
};

class SetAsideOutcomes {
public:
    // For a set-aside case with a label and a map (none otherwise); `threshold` may be NaN.
    [[nodiscard]] std::optional<SetAsideOutcome> outcome(const CaseStore& store,
                                                         const LoadedCase& c, double threshold);

private:
    struct Reduced {
        CaseId id;
        std::uint64_t revision;
        RegionOfInterest region;
        std::optional<EvaluationCase> reduced;  // none: the map or region is missing
    };
    std::vector<Reduced> reduced_;
};

}  // namespace cls::app
