// The experiments of Tan et al. (arXiv 2510.17897) as one run over any labelled set, each
// an evaluation over random splits (see evaluation.hpp), written as Markdown and CSV tables
// and SVG charts with an index (README.md) that embeds them:
//   table_fnr_missed        voxel FNR and missed-lesion rate, epsilon 0.1 / 0.3 / 0.5 at
//                           alpha 0.2, fixed vs CLS vs CRC
//   coverage_vs_alpha       alpha 0.1 ... 0.9 at epsilon 0.4, with 1 - alpha and
//                           1 - alpha + 1/(n+1)
//   fnr_fpr_scatter         per-case FNR against FPR on the first split's test cases, fixed
//                           0.5 vs CLS (epsilon 0.3, alpha 0.2)
//   compactness_heatmap     CLS's share of voxels predicted over epsilon x alpha
//   coverage_vs_calibration_share   calibration share 0.1 ... 0.9 (epsilon 0.4, alpha 0.1)
//   table_beyond            beyond the paper: lesion-level CLS, PAC and Mondrian CLS beside
//                           CLS and CRC (epsilon 0.3, alpha 0.2, delta 0.1, Mondrian groups
//                           split at the median lesion burden)
// Settings the data cannot support (too few calibration cases for an alpha) are left out and
// listed in the index, rather than failing the run.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cls/evaluation.hpp"
#include "cls/report/report_file.hpp"
#include "cls/result.hpp"

namespace cls::report {

struct PaperSuiteSettings {
    std::size_t splits = 100;
    std::uint64_t seed = 1;
    double calibration_fraction = 0.5;  // all experiments but the one that varies it
    double fixed_threshold = 0.5;
    std::string data_description;  // a line for the index, e.g. where the cases came from
};

// `progress(done, total)` after each evaluation. Fails only when no experiment can run.
[[nodiscard]] Result<std::vector<ReportFile>> paper_suite(
    const EvaluationSet& set, const PaperSuiteSettings& settings,
    const std::function<void(std::size_t, std::size_t)>& progress = {});

}  // namespace cls::report
