// `cls calibrate --probs DIR --labels DIR --epsilon E --alpha A [--method cls|crc|fixed]
//  [--empty-masks satisfied|exclude] [--threshold T] [--lesion-channels LIST [--combine sum|max]]
//  [--lesion-labels LIST|nonzero] [--roi none|nonzero|mask] [--images DIR] [--roi-masks DIR]
//  --out CERT.json`, or `--scores DIR` for --probs and --labels
// Streams the labelled cases once, each map restricted to the region of interest, keeping only
// their sorted lesion probabilities and profiles, and writes the calibration certificate. With
// --scores it reads them from the case scores `cls score` wrote (the reduce of a map and reduce),
// and writes the same certificate byte for byte.
#include <algorithm>
#include <cstdio>

#include "arguments.hpp"
#include "case_loading.hpp"
#include "case_regions.hpp"
#include "cls/certificate.hpp"
#include "cls/version.hpp"
#include "commands.hpp"
#include "score_loading.hpp"

namespace cls::cli {
namespace {

constexpr const char* kCommand = "calibrate";

Result<CalibrationSettings> read_settings(const Arguments& args) {
    CalibrationSettings settings;
    CLS_TRY_ASSIGN(settings.method, parse_method(args.text_or("--method", "cls")));
    CLS_TRY_ASSIGN(settings.empty_masks,
                   parse_empty_mask_policy(args.text_or("--empty-masks", "satisfied")));
    CLS_TRY_ASSIGN(settings.epsilon, args.number("--epsilon"));
    CLS_TRY_ASSIGN(settings.alpha, args.number("--alpha"));
    CLS_TRY_ASSIGN(settings.fixed_threshold, args.number_or("--threshold", 0.5));
    if (Status valid = validate(settings); !valid) return valid.error();
    return settings;
}

std::string describe_threshold(double t) {
    char text[64];
    std::snprintf(text, sizeof text, "%.9g", t);
    return t == kInfinity ? "+inf (no voxel is predicted)" : text;
}

// The calibration cases from their volumes, streamed once on --threads threads: each map
// restricted to the region, its sorted lesion probabilities, profile and the files' SHA-256s
// kept, in name order. Returns an exit code (kSuccess, or a failure already reported).
int read_volumes(const Arguments& args, std::vector<LesionScores>& scores,
                 Certificate& certificate) {
    auto probs = args.text("--probs");
    auto labels = args.text("--labels");
    if (!probs) return fail(kCommand, probs.error().message, kUsage);
    if (!labels) return fail(kCommand, labels.error().message, kUsage);
    auto threads = read_threads(args);
    if (!threads) return fail(kCommand, threads.error().message, kUsage);
    auto inputs = read_region_inputs(args, RegionInputKind::folders);
    if (!inputs) return fail(kCommand, inputs.error().message, kUsage);
    auto regions = CaseRegions::open(*inputs);
    if (!regions) return fail(kCommand, regions.error().message);
    certificate.region = inputs->region;
    struct Scored {
        LesionScores scores;
        InputHashes hashes;
        CaseProfile profile;
    };
    Status streamed = for_each_labelled_case<Scored>(
        {*probs, *labels}, certificate.lesion, "calibrate", *threads,
        [&regions](LabelledCase& c) -> Result<Scored> {
            Volume& map = c.probabilities.image.volume;
            auto profile = regions->prepare(c.name, map, c.probabilities_path);
            if (!profile) return profile.error();
            auto collected =
                collect_lesion_scores(c.name, map.values(), c.label.image.volume.values());
            if (!collected) return collected.error();
            return Scored{
                std::move(*collected), {c.probabilities.sha256, c.label.sha256}, *profile};
        },
        [&](Scored& c) -> Status {
            scores.push_back(std::move(c.scores));
            certificate.inputs.push_back(std::move(c.hashes));
            certificate.profiles.push_back(c.profile);
            return Done{};
        });
    return streamed ? kSuccess : fail(kCommand, streamed.error().message);
}

// The same from the case scores `cls score` wrote: their lesion sections and hashes, and the
// lesion definition they record.
int read_scores(const Arguments& args, std::vector<LesionScores>& scores,
                Certificate& certificate) {
    const std::string dir = *args.text("--scores");
    auto cohort = read_case_scores(dir, ScoreParts::calibration, "calibrate");
    if (!cohort) return fail(kCommand, cohort.error().message);
    auto lesion = scores_lesion_definition(args, cohort->lesion, dir);
    if (!lesion) return fail(kCommand, lesion.error().message, kUsage);
    auto region = scores_region(args, cohort->region, dir);
    if (!region) return fail(kCommand, region.error().message, kUsage);
    certificate.lesion = *lesion;
    certificate.region = *region;
    // Profiles all or none: scores of format_version 1 have none.
    const bool profiled = std::all_of(cohort->cases.begin(), cohort->cases.end(),
                                      [](const CaseScore& c) { return c.profile.has_value(); });
    for (CaseScore& c : cohort->cases) {
        scores.push_back(std::move(c.scores.lesion));
        certificate.inputs.push_back(std::move(c.inputs));
        if (profiled) certificate.profiles.push_back(*c.profile);
    }
    return kSuccess;
}

CommandSpec spec() {
    CommandSpec spec{
        .name = "calibrate",
        .summary =
            "Calibrates a lesion-probability threshold on labelled cases (probability maps "
            "and labels paired by file name) and writes the certificate: CLS promises "
            "P(FNR <= epsilon) >= 1 - alpha for a new exchangeable case.",
        .options = labelled_cases_options(),
        .positional = "",
        .example =
            "cls calibrate --probs probs --labels labels --epsilon 0.1 --alpha 0.1 "
            "--lesion-channels 1 --out cert.json",
    };
    spec.add({
        {"--epsilon", "E", "FNR tolerance, in [0, 1)"},
        {"--alpha", "A", "risk level, in (0, 1)"},
        {"--method", "cls|crc|fixed", "cls (default), crc (expected FNR) or fixed"},
        {"--empty-masks", "satisfied|exclude",
         "cases without lesion: count as satisfied (default) or leave out"},
        {"--threshold", "T", "the fixed method's threshold (default 0.5)"},
        {"--out", "CERT.json", "the certificate; - for standard output"},
    });
    spec.add(lesion_options(true));
    spec.add(region_options(RegionInputKind::folders));
    spec.add({threads_option()});
    return spec;
}

}  // namespace

int run_calibrate(Words words) {
    const std::string command = kCommand;
    auto args = Arguments::parse(words, spec());
    if (!args) return fail(command, args.error().message, kUsage);
    if (args->help_requested()) return print_help(*args);
    auto lesion = read_lesion_definition(*args);
    if (!lesion) return fail(command, lesion.error().message, kUsage);
    auto settings = read_settings(*args);
    if (!settings) return fail(command, settings.error().message, kUsage);
    if (Status one = check_scores_or_volumes(*args); !one) {
        return fail(command, one.error().message, kUsage);
    }
    auto out = args->text("--out");
    if (!out) return fail(command, out.error().message, kUsage);

    std::vector<LesionScores> scores;
    Certificate certificate;
    certificate.tool_version = kVersion;
    certificate.lesion = *lesion;
    const int read = args->has("--scores") ? read_scores(*args, scores, certificate)
                                           : read_volumes(*args, scores, certificate);
    if (read != kSuccess) return read;

    auto calibration = calibrate(scores, *settings);
    if (!calibration) return fail(command, calibration.error().message);
    certificate.calibration = std::move(*calibration);
    const std::string json = to_json(certificate);
    if (Status written = io::write_file_atomic(*out, {json.begin(), json.end()}); !written) {
        return fail(command, written.error().message);
    }

    // With "--out -" the certificate is standard output, so the summary goes to stderr.
    std::FILE* summary = *out == "-" ? stderr : stdout;
    const Calibration& c = certificate.calibration;
    std::fprintf(summary, "method %s, epsilon %g, alpha %g: threshold %s\n",
                 std::string(to_string(c.settings.method)).c_str(), c.settings.epsilon,
                 c.settings.alpha, describe_threshold(c.threshold).c_str());
    if (c.settings.method == Method::cls) {
        std::fprintf(
            summary, "k = floor((n+1)*alpha) = %zu of n = %zu cases (%zu with empty masks, %s)\n",
            c.k, c.n, c.empty_mask_count, std::string(to_string(c.settings.empty_masks)).c_str());
    }
    if (!certificate.lesion.channels.single()) {
        std::fprintf(summary, "lesion channels %s (%s), lesion labels %s\n",
                     channels_text(certificate.lesion.channels).c_str(),
                     std::string(to_string(certificate.lesion.channels.combine)).c_str(),
                     labels_text(certificate.lesion.labels).c_str());
    } else if (certificate.lesion.labels.kind != LesionLabels::Kind::binary) {
        std::fprintf(summary, "lesion labels %s\n", labels_text(certificate.lesion.labels).c_str());
    }
    if (certificate.region != RegionOfInterest::none) {
        std::fprintf(summary, "region of interest: %s\n",
                     std::string(to_string(certificate.region)).c_str());
        // Only tau = 0 predicts outside the region (every voxel is then predicted): say so.
        if (c.threshold == 0.0) {
            warn(command,
                 "the threshold is 0, so every voxel is predicted, outside the region of interest "
                 "too: the calibration cases need lesion voxels the region leaves out (or that "
                 "the model gives probability 0) to meet epsilon");
        }
    }
    std::fprintf(summary, "certificate written to %s\n", out->c_str());
    return kSuccess;
}

}  // namespace cls::cli
