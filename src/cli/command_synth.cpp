// `cls synth [--kind probabilities|scans] --cases N --size S --seed K --out DIR`: a labelled
// synthetic set. `probabilities` (the default) writes images, labels and the probability maps
// of a simulated imperfect model, for demos, tests and teaching; `scans` writes FLAIR-like
// images and their labels only, to train and test a real model (scripts/train_model.py).
#include <cstdio>
#include <filesystem>
#include <string>
#include <tuple>
#include <vector>

#include "arguments.hpp"
#include "cls/io/file.hpp"
#include "cls/synth.hpp"
#include "cls/synth_scan.hpp"
#include "commands.hpp"
#include "progress.hpp"

namespace cls::cli {

namespace {

struct Output {
    const char* folder;
    const Volume* volume;
    nifti::DataType type;
};

const CommandSpec kSpec{
    .name = "synth",
    .summary =
        "Writes a labelled synthetic set, deterministic per seed: images/, labels/ and "
        "probs/ from a simulated model (probabilities), or FLAIR-like images/ and "
        "labels/ for a real model to segment (scans).",
    .options =
        {
            {"--kind", "probabilities|scans", "what to write (default probabilities)"},
            {"--cases", "N", "how many cases, 1..100000"},
            {"--size", "S", "edge of the cubic volumes, 8..512"},
            {"--seed", "K", "the seed, >= 0"},
            {"--out", "DIR", "the folder to write"},
        },
    .positional = "",
    .example = "cls synth --cases 100 --size 48 --seed 2026 --out demo",
};

}  // namespace

int run_synth(Words words) {
    const std::string command = "synth";
    auto args = Arguments::parse(words, kSpec);
    if (!args) return fail(command, args.error().message, kUsage);
    if (args->help_requested()) return print_help(*args);
    const std::string kind = args->text_or("--kind", "probabilities");
    auto cases = args->integer("--cases");
    auto size = args->integer("--size");
    auto seed = args->integer("--seed");
    auto out = args->text("--out");
    if (kind != "probabilities" && kind != "scans")
        return fail(command, "--kind must be probabilities or scans, not '" + kind + "'", kUsage);
    if (!cases) return fail(command, cases.error().message, kUsage);
    if (!size) return fail(command, size.error().message, kUsage);
    if (!seed) return fail(command, seed.error().message, kUsage);
    if (!out) return fail(command, out.error().message, kUsage);
    if (*cases < 1 || *cases > 100000) return fail(command, "--cases must be in 1..100000", kUsage);
    if (*size < 8 || *size > 512) return fail(command, "--size must be in 8..512", kUsage);
    if (*seed < 0) return fail(command, "--seed must be >= 0", kUsage);

    const bool scans = kind == "scans";
    const std::vector<const char*> folders =
        scans ? std::vector<const char*>{"images", "labels"}
              : std::vector<const char*>{"images", "labels", "probs"};
    const std::filesystem::path root(*out);
    for (const char* sub : folders) {
        std::error_code ec;
        std::filesystem::create_directories(root / sub, ec);
        if (ec)
            return fail(command, (root / sub).string() + ": cannot be created: " + ec.message());
    }
    const SynthSettings settings{.size = *size, .seed = static_cast<std::uint64_t>(*seed)};
    Progress progress("synth", static_cast<std::size_t>(*cases));
    for (int i = 0; i < *cases; ++i) {
        // Only one of the two is made per case.
        SynthCase probabilities;
        SynthScan scan;
        std::string name;
        std::vector<Output> outputs;
        if (scans) {
            scan = synth_scan(settings, i);
            name = scan.name;
            outputs = {{"images", &scan.image, nifti::DataType::float32},
                       {"labels", &scan.label, nifti::DataType::uint8}};
        } else {
            probabilities = synth_case(settings, i);
            name = probabilities.name;
            outputs = {{"images", &probabilities.image, nifti::DataType::float32},
                       {"labels", &probabilities.label, nifti::DataType::uint8},
                       {"probs", &probabilities.probability, nifti::DataType::float32}};
        }
        const std::string file = name + ".nii.gz";
        for (const Output& output : outputs) {
            if (Status saved = io::save_nifti(root / output.folder / file, *output.volume,
                                              {.datatype = output.type});
                !saved) {
                return fail(command, saved.error().message);
            }
        }
        progress.advance(name);
    }
    std::printf("wrote %lld %s cases of %lld^3 voxels to %s/{%s}\n", *cases, kind.c_str(), *size,
                root.string().c_str(), scans ? "images,labels" : "images,labels,probs");
    return kSuccess;
}

}  // namespace cls::cli
