// Reads a folder of case scores (written by `cls score`, one per case) for the commands that
// take --scores DIR instead of --probs and --labels: each file checked by the core's reader,
// the set checked as one cohort (one score per case, one lesion definition), and handed over in
// case-name order, the order in which pair_cases gives the volumes, so a certificate made from
// scores lists its cases as one made from the volumes does.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "arguments.hpp"
#include "cls/case_score.hpp"
#include "cls/lesion_definition.hpp"
#include "cls/region_of_interest.hpp"
#include "cls/result.hpp"

namespace cls::cli {

struct ScoredCohort {
    std::vector<CaseScore> cases;                      // sorted by case name
    LesionDefinition lesion;                           // what every score was made with
    RegionOfInterest region = RegionOfInterest::none;  // likewise
};

// Every *.score file in `dir`, read for `parts` with progress on stderr. `check`, when given,
// sees each score as it is read and may refuse it (evaluate's memory limit). Refuses a folder
// without scores, two scores of one case and scores made with different lesion definitions or
// regions of interest, naming the files.
[[nodiscard]] Result<ScoredCohort> read_case_scores(
    const std::filesystem::path& dir, ScoreParts parts, const std::string& task,
    const std::function<Status(const CaseScore&)>& check = {});

// The scores' lesion definition; lesion options that say otherwise are refused (the scores
// were read another way than the options ask).
[[nodiscard]] Result<LesionDefinition> scores_lesion_definition(const Arguments& args,
                                                                const LesionDefinition& recorded,
                                                                const std::string& dir);

// The scores' region of interest; an --roi that says otherwise, and --images or --roi-masks
// (the scores were restricted when they were made), are refused.
[[nodiscard]] Result<RegionOfInterest> scores_region(const Arguments& args,
                                                     RegionOfInterest recorded,
                                                     const std::string& dir);

// --probs, --labels and --scores: where calibrate and evaluate read their labelled cases, as
// volumes or as case scores.
[[nodiscard]] std::vector<OptionSpec> labelled_cases_options();
// "--scores replaces --probs and --labels": the usage error when both kinds are given.
[[nodiscard]] Status check_scores_or_volumes(const Arguments& args);

}  // namespace cls::cli
