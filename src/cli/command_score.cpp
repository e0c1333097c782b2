// `cls score --probs P.nii[.gz] --labels L.nii[.gz] [--lesion-channels LIST [--combine sum|max]]
//  [--lesion-labels LIST|nonzero] [--roi none|nonzero|mask] [--image IMG] [--roi-mask MASK]
//  --out CASE.score`
// The map of a cohort's map and reduce: one labelled case, read by the same rules as every
// other command (case_loading; its map restricted to the region and profiled as calibrate does,
// case_regions), reduced to its case score (cls/case_score.hpp), which
// `cls calibrate --scores DIR` and `cls evaluate --scores DIR` read instead of the volumes.
#include <cstdio>
#include <utility>

#include "arguments.hpp"
#include "case_loading.hpp"
#include "case_regions.hpp"
#include "cls/case_pairing.hpp"
#include "cls/case_score.hpp"
#include "cls/version.hpp"
#include "commands.hpp"

namespace cls::cli {
namespace {

CommandSpec spec() {
    CommandSpec spec{
        .name = "score",
        .summary =
            "Reduces one labelled case (its probability map and label) to a case score: its "
            "sorted lesion and background probabilities, each lesion's largest probability, "
            "and the SHA-256 of both files. cls calibrate --scores and cls evaluate --scores "
            "read a folder of them instead of the volumes, with the same results.",
        .options =
            {
                {"--probs", "P.nii[.gz]", "the case's probability map"},
                {"--labels", "L.nii[.gz]", "its label, with the same case name"},
                {"--out", "CASE.score", "the case score; - for standard output"},
            },
        .positional = "",
        .example =
            "cls score --probs probs/case_003.nii.gz --labels labels/case_003.nii.gz "
            "--out scores/case_003.score",
    };
    spec.add(lesion_options(true));
    spec.add(region_options(RegionInputKind::files));
    return spec;
}

// The case's name by the pairing rule, which must be the same for both files, as it is for
// every pair `calibrate --probs --labels` forms: a score is one case's map and label.
Result<std::string> case_name(const std::string& probs, const std::string& labels) {
    const FileNaming map = name_file(probs, FileRole::probability);
    const FileNaming label = name_file(labels, FileRole::label);
    if (map.case_name != label.case_name) {
        return make_error(probs + " and " + labels + " are of different cases ('" + map.case_name +
                          "' and '" + label.case_name +
                          "'); a score is one case's probability map and label");
    }
    return map.case_name;
}

}  // namespace

int run_score(Words words) {
    const std::string command = "score";
    auto args = Arguments::parse(words, spec());
    if (!args) return fail(command, args.error().message, kUsage);
    if (args->help_requested()) return print_help(*args);
    auto lesion = read_lesion_definition(*args);
    if (!lesion) return fail(command, lesion.error().message, kUsage);
    auto probs = args->text("--probs");
    auto labels = args->text("--labels");
    auto out = args->text("--out");
    if (!probs) return fail(command, probs.error().message, kUsage);
    if (!labels) return fail(command, labels.error().message, kUsage);
    if (!out) return fail(command, out.error().message, kUsage);
    auto region = read_region_inputs(*args, RegionInputKind::files);
    if (!region) return fail(command, region.error().message, kUsage);
    auto name = case_name(*probs, *labels);
    if (!name) return fail(command, name.error().message);

    // The image and region mask must be the same case's too.
    for (const auto& [path, role] :
         {std::pair{region->images, FileRole::image}, std::pair{region->masks, FileRole::mask}}) {
        if (path.empty()) continue;
        if (const std::string other = name_file(path.string(), role).case_name; other != *name) {
            return fail(command, path.string() + " is of case '" + other + "', not '" + *name +
                                     "' of " + *probs);
        }
    }
    auto labelled = load_labelled_case(*name, *probs, *labels, *lesion);
    if (!labelled) return fail(command, labelled.error().message);
    auto profile = restrict_and_profile(labelled->probabilities.image.volume, *probs,
                                        region->region, region->images, region->masks);
    if (!profile) return fail(command, profile.error().message);
    auto reduced = collect_evaluation_case(*name, labelled->probabilities.image.volume,
                                           labelled->label.image.volume);
    if (!reduced) return fail(command, reduced.error().message);
    const CaseScore score{.scores = std::move(*reduced),
                          .inputs = {labelled->probabilities.sha256, labelled->label.sha256},
                          .lesion = *lesion,
                          .tool_version = kVersion,
                          .region = region->region,
                          .profile = *profile};
    const std::vector<std::uint8_t> bytes = encode_case_score(score);
    if (Status written = io::write_file_atomic(*out, bytes); !written) {
        return fail(command, written.error().message);
    }
    // With "--out -" the score is standard output, so the summary goes to stderr.
    std::FILE* summary = *out == "-" ? stderr : stdout;
    const EvaluationCase& c = score.scores;
    std::fprintf(summary,
                 "%s: %zu lesion voxels in %zu lesions, %zu voxels; score written to %s "
                 "(%zu bytes)\n",
                 name->c_str(), c.lesion_voxels(), c.lesions(), c.voxels(), out->c_str(),
                 bytes.size());
    return kSuccess;
}

}  // namespace cls::cli
