// Charts of one evaluation (`cls evaluate --plots DIR`):
//   coverage_by_split.svg    how each method's coverage spreads over the splits, with 1 - alpha
//   fnr_fpr_first_split.svg  per-case FNR against FPR of the first split's test cases
#pragma once

#include <string>
#include <vector>

#include "cls/evaluation.hpp"
#include "cls/report/report_file.hpp"

namespace cls::report {

[[nodiscard]] std::vector<ReportFile> evaluation_plots(const EvaluationReport& report);

// One colour per method in every chart (Okabe–Ito): cls blue, fixed vermilion, crc green, ...
[[nodiscard]] std::string method_colour(EvaluationMethod method);

}  // namespace cls::report
