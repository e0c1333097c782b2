// An evaluation report as the files and text people read: JSON (round-trip precision), a
// long-format CSV, and the table `cls evaluate` prints. Platform-free, so the browser app can
// export the very same files.
// JSON: {"format": "cls-evaluation", "format_version": 1, "splits": R, "cases", "n_cal",
//   "n_test", "epsilon", "alpha", "delta", "calibration_fraction", "seed", "fixed_threshold",
//   "empty_mask_policy", "empty_masks", "excluded_empty_masks", "mondrian": rule or null,
//   "methods": {"cls": {"coverage": mean, ..., "threshold": mean,
//                       "threshold_infinite_splits": count,
//                       "spread": {"coverage": {"std", "p5", "p95"}, ...},
//                       "groups": [per Mondrian group: "name", "cases", "splits",
//                                  "mean_n_cal", "mean_n_test", "fallback_splits",
//                                  the means and "spread" as above]}, ...}}
// Non-finite numbers (an infinite or per-group threshold) are written as null.
// CSV: method,group,metric,mean,std,p5,p95 (group empty for the whole test part).
#pragma once

#include <string>

#include "cls/evaluation.hpp"

namespace cls::report {

[[nodiscard]] std::string to_json(const EvaluationReport& report);
[[nodiscard]] std::string to_csv(const EvaluationReport& report);
// A fixed-width table of the main means, with each method's promise underneath.
[[nodiscard]] std::string to_text(const EvaluationReport& report);
// What a method promises, in words ("P(FNR <= 0.2) >= 0.9 for a new case").
[[nodiscard]] std::string promise(EvaluationMethod method, const EvaluationSettings& settings);

}  // namespace cls::report
