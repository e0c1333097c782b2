// `cls calibrate --probs DIR --labels DIR --epsilon E --alpha A [--method cls|crc|fixed]
//  [--empty-masks satisfied|exclude] [--threshold T] [--lesion-channels LIST [--combine sum|max]]
//  [--lesion-labels LIST|nonzero] --out CERT.json`
// Streams the labelled cases once, keeping only their sorted lesion probabilities, and writes
// the calibration certificate.
#include <cstdio>

#include "arguments.hpp"
#include "case_loading.hpp"
#include "cls/certificate.hpp"
#include "cls/version.hpp"
#include "commands.hpp"

namespace cls::cli {
namespace {

Result<CalibrationSettings> read_settings(const Arguments& args) {
    CalibrationSettings settings;
    auto method = parse_method(args.text_or("--method", "cls"));
    if (!method) return method.error();
    settings.method = *method;
    auto policy = parse_empty_mask_policy(args.text_or("--empty-masks", "satisfied"));
    if (!policy) return policy.error();
    settings.empty_masks = *policy;
    auto epsilon = args.number("--epsilon");
    if (!epsilon) return epsilon.error();
    settings.epsilon = *epsilon;
    auto alpha = args.number("--alpha");
    if (!alpha) return alpha.error();
    settings.alpha = *alpha;
    auto fixed = args.number_or("--threshold", 0.5);
    if (!fixed) return fixed.error();
    settings.fixed_threshold = *fixed;
    if (Status valid = validate(settings); !valid) return valid.error();
    return settings;
}

std::string describe_threshold(double t) {
    char text[64];
    std::snprintf(text, sizeof text, "%.9g", t);
    return t == kInfinity ? "+inf (no voxel is predicted)" : text;
}

CommandSpec spec() {
    CommandSpec spec{
        .name = "calibrate",
        .summary =
            "Calibrates a lesion-probability threshold on labelled cases (probability maps "
            "and labels paired by file name) and writes the certificate: CLS promises "
            "P(FNR <= epsilon) >= 1 - alpha for a new exchangeable case.",
        .options =
            {
                {"--probs", "DIR", "probability maps (.nii, .nii.gz), one per case"},
                {"--labels", "DIR", "labels with the same case names"},
                {"--epsilon", "E", "FNR tolerance, in [0, 1)"},
                {"--alpha", "A", "risk level, in (0, 1)"},
                {"--method", "cls|crc|fixed", "cls (default), crc (expected FNR) or fixed"},
                {"--empty-masks", "satisfied|exclude",
                 "cases without lesion: count as satisfied (default) or leave out"},
                {"--threshold", "T", "the fixed method's threshold (default 0.5)"},
                {"--out", "CERT.json", "the certificate; - for standard output"},
            },
        .positional = "",
        .example =
            "cls calibrate --probs probs --labels labels --epsilon 0.1 --alpha 0.1 "
            "--lesion-channels 1 --out cert.json",
    };
    for (OptionSpec& option : lesion_options(true)) spec.options.push_back(std::move(option));
    spec.options.push_back(threads_option());
    return spec;
}

}  // namespace

int run_calibrate(Words words) {
    const std::string command = "calibrate";
    auto args = Arguments::parse(words, spec());
    if (!args) return fail(command, args.error().message, kUsage);
    if (args->help_requested()) return print_help(*args);
    auto lesion = read_lesion_definition(*args);
    if (!lesion) return fail(command, lesion.error().message, kUsage);
    auto settings = read_settings(*args);
    if (!settings) return fail(command, settings.error().message, kUsage);
    auto probs = args->text("--probs");
    auto labels = args->text("--labels");
    auto out = args->text("--out");
    if (!probs) return fail(command, probs.error().message, kUsage);
    if (!labels) return fail(command, labels.error().message, kUsage);
    if (!out) return fail(command, out.error().message, kUsage);
    auto threads = read_threads(*args);
    if (!threads) return fail(command, threads.error().message, kUsage);

    struct Scored {
        LesionScores scores;
        InputHashes hashes;
    };
    std::vector<LesionScores> scores;
    Certificate certificate;
    certificate.tool_version = kVersion;
    certificate.lesion = *lesion;
    Status streamed = for_each_labelled_case<Scored>(
        {*probs, *labels}, *lesion, "calibrate", *threads,
        [](LabelledCase& c) -> Result<Scored> {
            auto collected = collect_lesion_scores(c.name, c.probabilities.image.volume.values(),
                                                   c.label.image.volume.values());
            if (!collected) return collected.error();
            return Scored{std::move(*collected), {c.probabilities.sha256, c.label.sha256}};
        },
        [&](Scored& c) -> Status {
            scores.push_back(std::move(c.scores));
            certificate.inputs.push_back(std::move(c.hashes));
            return Done{};
        });
    if (!streamed) return fail(command, streamed.error().message);

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
    std::fprintf(summary, "certificate written to %s\n", out->c_str());
    return kSuccess;
}

}  // namespace cls::cli
