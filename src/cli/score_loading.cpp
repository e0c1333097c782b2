#include "score_loading.hpp"

#include <algorithm>

#include "case_loading.hpp"
#include "cls/io/case_score_file.hpp"
#include "progress.hpp"

namespace cls::cli {
namespace fs = std::filesystem;

Result<ScoredCohort> read_case_scores(const fs::path& dir, ScoreParts parts,
                                      const std::string& task,
                                      const std::function<Status(const CaseScore&)>& check) {
    auto files = io::list_case_score_files(dir);
    if (!files) return files.error();
    if (files->empty()) {
        return make_error("holds no .score file (cls score writes them)").in(dir.string());
    }
    struct Read {
        CaseScore score;
        fs::path path;
    };
    std::vector<Read> read;
    read.reserve(files->size());
    {
        Progress progress(task, files->size());
        for (const std::string& file : *files) {
            const fs::path path = dir / file;
            auto score = io::load_case_score(path, parts);
            if (!score) return score.error();
            if (!read.empty() && score->region != read.front().score.region) {
                return make_error("was made with region of interest '" +
                                  std::string(to_string(score->region)) + "', but " +
                                  read.front().path.string() + " with '" +
                                  std::string(to_string(read.front().score.region)) +
                                  "'; score every case of a cohort alike")
                    .in(path.string());
            }
            if (!read.empty() && score->lesion != read.front().score.lesion) {
                return make_error("was made with " + describe(score->lesion) + ", but " +
                                  read.front().path.string() + " with " +
                                  describe(read.front().score.lesion) +
                                  "; score every case of a cohort alike")
                    .in(path.string());
            }
            if (check) {
                if (Status kept = check(*score); !kept) return kept.error().in(path.string());
            }
            read.push_back({std::move(*score), path});
            progress.advance(file);
        }
    }
    std::sort(read.begin(), read.end(), [](const Read& a, const Read& b) {
        return a.score.scores.name() < b.score.scores.name();
    });
    for (std::size_t i = 1; i < read.size(); ++i) {
        if (read[i].score.scores.name() == read[i - 1].score.scores.name()) {
            return make_error("is a score of case '" + read[i].score.scores.name() + "', as is " +
                              read[i - 1].path.string() + "; a cohort has one score per case")
                .in(read[i].path.string());
        }
    }
    ScoredCohort cohort;
    cohort.lesion = read.front().score.lesion;
    cohort.region = read.front().score.region;
    cohort.cases.reserve(read.size());
    for (Read& r : read) cohort.cases.push_back(std::move(r.score));
    return cohort;
}

Result<LesionDefinition> scores_lesion_definition(const Arguments& args,
                                                  const LesionDefinition& recorded,
                                                  const std::string& dir) {
    return recorded_lesion_definition(args, recorded,
                                      "what the scores in " + dir + " were made with", "theirs");
}

Result<RegionOfInterest> scores_region(const Arguments& args, RegionOfInterest recorded,
                                       const std::string& dir) {
    if (args.has("--images") || args.has("--roi-masks")) {
        return make_error("--images and --roi-masks are for --probs and --labels: the scores in " +
                          dir + " were restricted to their region when cls score made them");
    }
    if (args.has("--roi") && args.text_or("--roi", "") != to_string(recorded)) {
        return make_error("--roi " + args.text_or("--roi", "") + " is not what the scores in " +
                          dir + " were made with (" + std::string(to_string(recorded)) +
                          "); leave it out to use theirs");
    }
    return recorded;
}

std::vector<OptionSpec> labelled_cases_options() {
    return {
        {"--probs", "DIR", "probability maps (.nii, .nii.gz, .npz), one per case"},
        {"--labels", "DIR", "labels with the same case names"},
        {"--scores", "DIR", "case scores (cls score) instead of --probs and --labels"},
    };
}

Status check_scores_or_volumes(const Arguments& args) {
    if (args.has("--scores") && (args.has("--probs") || args.has("--labels"))) {
        return make_error("--scores replaces --probs and --labels: give the scores or the volumes");
    }
    return Done{};
}

}  // namespace cls::cli
