// Labelled cases from a folder of probability maps and a folder of labels, paired by file
// name: each case is loaded and checked by the core's rules (the lesion channels of the map
// chosen and combined, probabilities finite and in [0, 1], the label's lesion classes, the
// same grid), scored, and dropped, so a run holds a few cases' volumes at a time however large
// the set. Cases are loaded, hashed and scored on several threads (--threads, one per core by
// default) and their scores taken in name order, so every output is byte for byte what one
// thread gives. The options that say what is lesion live here too, so every subcommand that
// reads cases offers and reads them alike.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "arguments.hpp"
#include "cls/case_pairing.hpp"
#include "cls/io/file.hpp"
#include "cls/lesion_definition.hpp"
#include "cls/result.hpp"
#include "ordered_pipeline.hpp"
#include "progress.hpp"

namespace cls::cli {

struct CaseFolders {
    std::filesystem::path probabilities;
    std::filesystem::path labels;
};

struct LabelledCase {
    std::string name;
    std::filesystem::path probabilities_path;
    std::filesystem::path label_path;
    io::LoadedNifti probabilities;  // the lesion-probability map, channels combined
    io::LoadedNifti label;          // rewritten as 0 (background) / 1 (lesion)
};

// The cases of the two folders, paired by name in name order; nnU-Net's segmentations beside
// their .npz maps are set aside with a note on stderr. Errors name the folders.
[[nodiscard]] Result<std::vector<CasePair>> pair_labelled_cases(const CaseFolders& folders);
// One case by the same rules: its map and label loaded, checked and on one grid. Errors name
// the file. Safe to call from several threads. (`cls score` reads a single case through it.)
[[nodiscard]] Result<LabelledCase> load_labelled_case(
    std::string name, const std::filesystem::path& probabilities_path,
    const std::filesystem::path& label_path, const LesionDefinition& lesion);

// Loads each case and hands it to `score` on one of `threads` threads (so `score` may only
// read what it shares), then each score to `take` on the calling thread, in name order, with
// progress on stderr. The calls to `take`, their values and the error returned (the first
// case's, in name order, whose loading, score or take fails) are those of a single thread.
template <class Scored>
Status for_each_labelled_case(const CaseFolders& folders, const LesionDefinition& lesion,
                              const std::string& task, unsigned threads,
                              const std::function<Result<Scored>(LabelledCase&)>& score,
                              const std::function<Status(Scored&)>& take) {
    auto pairs = pair_labelled_cases(folders);
    if (!pairs) return pairs.error();
    Progress progress(task, pairs->size());
    return ordered_pipeline<Scored>(
        pairs->size(), threads,
        [&](std::size_t i) -> Result<Scored> {
            const CasePair& pair = (*pairs)[i];
            auto labelled = load_labelled_case(pair.name, folders.probabilities / pair.first,
                                               folders.labels / pair.second, lesion);
            if (!labelled) return labelled.error();
            return score(*labelled);
        },
        [&](std::size_t i, Scored& scored) -> Status {
            if (Status taken = take(scored); !taken) return taken;
            progress.advance((*pairs)[i].name);
            return Done{};
        });
}

// --threads, for a CommandSpec that reads cases.
[[nodiscard]] OptionSpec threads_option();
// What --threads says; by default one thread per core.
[[nodiscard]] Result<unsigned> read_threads(const Arguments& args);

// --lesion-channels, --combine (maps) and, with `labels`, --lesion-labels, for a CommandSpec.
[[nodiscard]] std::vector<OptionSpec> lesion_options(bool labels);
// What those options say; defaults: a single-channel map, binary labels.
[[nodiscard]] Result<LesionDefinition> read_lesion_definition(const Arguments& args);
// For commands that read a certificate: its lesion definition, unless the options given say
// otherwise, which is refused (a map read another way than calibration read it is not covered
// by the certificate).
[[nodiscard]] Result<LesionDefinition> certificate_lesion_definition(
    const Arguments& args, const LesionDefinition& recorded, const std::string& certificate_path);
// The same for any record of a lesion definition: `recorded_as` ends "is not ..." in the
// message ("what cert.json was calibrated on"), `whose` ends "leave it out to use ..."
// ("the certificate's").
[[nodiscard]] Result<LesionDefinition> recorded_lesion_definition(const Arguments& args,
                                                                  const LesionDefinition& recorded,
                                                                  const std::string& recorded_as,
                                                                  const std::string& whose);

}  // namespace cls::cli
