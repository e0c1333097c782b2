#include "case_loading.hpp"

#include <algorithm>
#include <cstdio>
#include <thread>

#include "cls/io/npz.hpp"

namespace cls::cli {
namespace fs = std::filesystem;

Result<std::vector<CasePair>> pair_labelled_cases(const CaseFolders& folders) {
    auto listed = io::list_probability_files(folders.probabilities);
    if (!listed) return listed.error();
    auto label_files = io::list_nifti_files(folders.labels);
    if (!label_files) return label_files.error();
    if (listed->empty()) {
        return make_error("holds no .nii, .nii.gz or .npz file").in(folders.probabilities.string());
    }
    ProbabilityFiles probability_files = set_aside_nnunet_segmentations(std::move(*listed));
    if (const std::vector<std::string>& aside = probability_files.set_aside; !aside.empty()) {
        const std::string message =
            std::to_string(aside.size()) + " file(s) in " + folders.probabilities.string() +
            " set aside as nnU-Net's segmentations beside their .npz probabilities, which are "
            "read instead (" +
            aside.front() + (aside.size() > 1 ? ", ...)" : ")");
        std::fprintf(stderr, "cls: note: %s\n", message.c_str());
    }
    auto pairs =
        pair_cases(probability_files.maps, FileRole::probability, *label_files, FileRole::label);
    if (!pairs) {
        return pairs.error().in(folders.probabilities.string() + " and " + folders.labels.string());
    }
    return pairs;
}

Result<LabelledCase> load_labelled_case(std::string name, const fs::path& probabilities_path,
                                        const fs::path& label_path,
                                        const LesionDefinition& lesion) {
    auto label = io::load_label(label_path, lesion.labels);
    if (!label) return label.error();
    // The label is the reference grid of an nnU-Net .npz, which has none of its own.
    auto probabilities =
        io::load_case_probability_map(probabilities_path, lesion.channels, &label->image.volume);
    if (!probabilities) return probabilities.error();
    if (Status grid = check_same_grid(label->image.volume, probabilities->image.volume,
                                      "its probability map " + probabilities_path.string());
        !grid) {
        return grid.error().in(label_path.string());
    }
    return LabelledCase{std::move(name), probabilities_path, label_path, std::move(*probabilities),
                        std::move(*label)};
}

OptionSpec threads_option() {
    return {"--threads", "N",
            "cases read at once (default: one per core); any N gives the same output"};
}

Result<unsigned> read_threads(const Arguments& args) {
    if (!args.has("--threads")) return std::max(1u, std::thread::hardware_concurrency());
    auto threads = args.integer("--threads");
    if (!threads) return threads.error();
    constexpr long long kMost = 256;
    if (*threads < 1 || *threads > kMost) {
        return make_error("--threads must be from 1 to " + std::to_string(kMost) + ", got " +
                          std::to_string(*threads));
    }
    return static_cast<unsigned>(*threads);
}

std::vector<OptionSpec> lesion_options(bool labels) {
    std::vector<OptionSpec> options = {
        {"--lesion-channels", "LIST",
         "a map with several channels (x,y,z,C): the lesion ones, from 0, e.g. 1 or 1,2,3"},
        {"--combine", "sum|max",
         "how lesion channels combine: sum (softmax classes, default) "
         "or max (independent sigmoids)"},
    };
    if (labels) {
        options.push_back({"--lesion-labels", "LIST|nonzero",
                           "label values that are lesion, e.g. 1,2,4; default: 0 and one value"});
    }
    return options;
}

Result<LesionDefinition> read_lesion_definition(const Arguments& args) {
    LesionDefinition lesion;
    auto combine = parse_channel_combine(args.text_or("--combine", "sum"));
    if (!combine) return combine.error();
    if (args.has("--lesion-channels")) {
        CLS_TRY_ASSIGN(lesion.channels,
                       parse_lesion_channels(*args.text("--lesion-channels"), *combine));
    } else if (args.has("--combine")) {
        return make_error(
            "--combine needs --lesion-channels: it says how the lesion channels "
            "combine");
    }
    if (args.has("--lesion-labels")) {
        CLS_TRY_ASSIGN(lesion.labels, parse_lesion_labels(*args.text("--lesion-labels")));
    }
    return lesion;
}

Result<LesionDefinition> certificate_lesion_definition(const Arguments& args,
                                                       const LesionDefinition& recorded,
                                                       const std::string& certificate_path) {
    return recorded_lesion_definition(
        args, recorded, "what " + certificate_path + " was calibrated on", "the certificate's");
}

Result<LesionDefinition> recorded_lesion_definition(const Arguments& args,
                                                    const LesionDefinition& recorded,
                                                    const std::string& recorded_as,
                                                    const std::string& whose) {
    auto given = read_lesion_definition(args);
    if (!given) return given.error();
    if (args.has("--lesion-channels") && given->channels != recorded.channels) {
        return make_error(
            "--lesion-channels " + channels_text(given->channels) + " (" +
            std::string(to_string(given->channels.combine)) + ") is not " + recorded_as + " (" +
            (recorded.channels.single() ? std::string("single-channel maps")
                                        : "channels " + channels_text(recorded.channels) + ", " +
                                              std::string(to_string(recorded.channels.combine))) +
            "); leave it out to use " + whose);
    }
    if (args.has("--lesion-labels") && given->labels != recorded.labels) {
        return make_error("--lesion-labels " + labels_text(given->labels) + " is not " +
                          recorded_as + " (" + labels_text(recorded.labels) +
                          "); leave it out to use " + whose);
    }
    return recorded;
}

}  // namespace cls::cli
