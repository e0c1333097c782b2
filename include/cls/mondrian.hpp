// Groups for size-stratified (Mondrian) CLS: cases are split by a rule the user sets, and each
// group is calibrated on its own calibration cases, so each gets its own guarantee
// P(FNR <= epsilon | group) >= 1 - alpha instead of one that small lesions may fail inside.
// Rules are "FEATURE:CUT[,CUT...]" with ascending cuts; group g holds the cases whose feature
// lies in [cut_{g-1}, cut_g).
// [X] predicted-voxels: voxels with p >= 0.5, known for a new case without its label, so the
//     rule can be applied in deployment
// [X] lesion-voxels: the ground-truth lesion burden; needs the label, so it serves to study
//     the guarantee by true burden, not to pick a threshold for an unlabelled case
// [ ] features of the image itself (volume of the brain mask, scanner)
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "cls/evaluation_case.hpp"
#include "cls/result.hpp"

namespace cls {

enum class MondrianFeature { lesion_voxels, predicted_voxels };

struct MondrianRule {
    MondrianFeature feature = MondrianFeature::predicted_voxels;
    std::vector<std::size_t> cuts;  // ascending, at least one

    [[nodiscard]] std::size_t groups() const { return cuts.size() + 1; }
};

// The threshold whose mask the predicted-voxels feature counts.
inline constexpr double kMondrianPredictionThreshold = 0.5;

// "lesion-voxels:500" or "predicted-voxels:100,1000"; the error shows the expected form.
[[nodiscard]] Result<MondrianRule> parse_mondrian_rule(std::string_view text);
[[nodiscard]] std::string to_string(const MondrianRule& rule);

[[nodiscard]] std::size_t mondrian_feature(const MondrianRule& rule, const EvaluationCase& c);
// 0 .. groups() - 1.
[[nodiscard]] std::size_t mondrian_group(const MondrianRule& rule, const EvaluationCase& c);
// "lesion-voxels < 500", "500 <= lesion-voxels < 1000", "lesion-voxels >= 1000".
[[nodiscard]] std::string mondrian_group_name(const MondrianRule& rule, std::size_t group);

}  // namespace cls
