// Streams labelled cases from a folder of probability maps and a folder of labels, paired by
// file name: each case is loaded and checked by the core's rules (the lesion channels of the
// map chosen and combined, probabilities finite and in [0, 1], the label's lesion classes,
// the same grid) and handed over, then dropped, so a run holds one case's volumes at a time
// however large the set. The options that say what is lesion live here too, so every
// subcommand that reads cases offers and reads them alike.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "arguments.hpp"
#include "cls/io/file.hpp"
#include "cls/lesion_definition.hpp"
#include "cls/result.hpp"

namespace cls::cli {

struct LabelledCase {
    std::string name;
    std::filesystem::path probabilities_path;
    std::filesystem::path label_path;
    io::LoadedNifti probabilities;  // the lesion-probability map, channels combined
    io::LoadedNifti label;          // rewritten as 0 (background) / 1 (lesion)
};

// Calls `visit` for each case in name order, with progress on stderr; stops at the first
// error (from loading or from `visit`), which names the file.
Status for_each_labelled_case(const std::filesystem::path& probabilities_dir,
                              const std::filesystem::path& labels_dir,
                              const LesionDefinition& lesion, const std::string& task,
                              const std::function<Status(LabelledCase&)>& visit);

// One case by the same rules: its map and label loaded, checked and on one grid. Errors name
// the file. (`cls score` reads a single case through it.)
[[nodiscard]] Result<LabelledCase> load_labelled_case(
    std::string name, const std::filesystem::path& probabilities_path,
    const std::filesystem::path& label_path, const LesionDefinition& lesion);

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
