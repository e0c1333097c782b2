// `cls synth --cases N --size S --seed K --out DIR`: a labelled synthetic set with the
// probability maps of a simulated imperfect model, for demos, tests and teaching.
#include <cstdio>
#include <filesystem>

#include "arguments.hpp"
#include "cls/io/file.hpp"
#include "cls/synth.hpp"
#include "commands.hpp"
#include "progress.hpp"

namespace cls::cli {

int run_synth(Words words) {
    const std::string command = "synth";
    auto args = Arguments::parse(
        words, {.valued = {"--cases", "--size", "--seed", "--out"}, .switches = {}});
    if (!args) return fail(command, args.error().message, kUsage);
    auto cases = args->integer("--cases");
    auto size = args->integer("--size");
    auto seed = args->integer("--seed");
    auto out = args->text("--out");
    if (!cases) return fail(command, cases.error().message, kUsage);
    if (!size) return fail(command, size.error().message, kUsage);
    if (!seed) return fail(command, seed.error().message, kUsage);
    if (!out) return fail(command, out.error().message, kUsage);
    if (*cases < 1 || *cases > 100000) return fail(command, "--cases must be in 1..100000", kUsage);
    if (*size < 8 || *size > 512) return fail(command, "--size must be in 8..512", kUsage);
    if (*seed < 0) return fail(command, "--seed must be >= 0", kUsage);

    const std::filesystem::path root(*out);
    for (const char* sub : {"images", "labels", "probs"}) {
        std::error_code ec;
        std::filesystem::create_directories(root / sub, ec);
        if (ec)
            return fail(command, (root / sub).string() + ": cannot be created: " + ec.message());
    }
    const SynthSettings settings{.size = *size, .seed = static_cast<std::uint64_t>(*seed)};
    Progress progress("synth", static_cast<std::size_t>(*cases));
    for (int i = 0; i < *cases; ++i) {
        const SynthCase c = synth_case(settings, i);
        const std::string file = c.name + ".nii.gz";
        for (const auto& [sub, volume, type] :
             {std::tuple{"images", &c.image, nifti::DataType::float32},
              std::tuple{"labels", &c.label, nifti::DataType::uint8},
              std::tuple{"probs", &c.probability, nifti::DataType::float32}}) {
            if (Status saved = io::save_nifti(root / sub / file, *volume, {.datatype = type});
                !saved) {
                return fail(command, saved.error().message);
            }
        }
        progress.advance(c.name);
    }
    std::printf("wrote %lld cases of %lld^3 voxels to %s/{images,labels,probs}\n", *cases, *size,
                root.string().c_str());
    return kSuccess;
}

}  // namespace cls::cli
