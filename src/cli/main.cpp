// `cls`: calibrate, apply and check conformal lesion-segmentation thresholds from the shell.
#include <malloc.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "cls/version.hpp"
#include "commands.hpp"

namespace cls::cli {

int fail(const std::string& command, const std::string& message, ExitCode code) {
    std::fprintf(stderr, "cls %s: error: %s\n", command.c_str(), message.c_str());
    return code;
}

void warn(const std::string& command, const std::string& message) {
    std::fprintf(stderr, "cls %s: warning: %s\n", command.c_str(), message.c_str());
}

namespace {

constexpr const char* kUsageText =
    R"(cls: conformal lesion segmentation (Tan et al., arXiv 2510.17897)

usage:
  cls info [--json] FILE
  cls synth [--kind probabilities|scans] --cases N --size S --seed K --out DIR
  cls calibrate --probs DIR --labels DIR --epsilon E --alpha A
                [--method cls|crc|fixed] [--empty-masks satisfied|exclude]
                [--threshold T] [LESION] --out CERT.json
  cls score --probs P.nii[.gz] --labels L.nii[.gz] [LESION] --out CASE.score
  cls apply --calibration CERT.json --probs P.nii[.gz] --out MASK.nii.gz
  cls assess --calibration CERT.json --probs DIR --labels DIR [--json OUT]
  cls evaluate --probs DIR --labels DIR --epsilon E --alpha A [--splits R]
               [--cal-fraction F] [--seed S] [--methods fixed,cls,crc,lesion-cls,pac,mondrian]
               [--delta D] [--mondrian lesion-voxels:N|predicted-voxels:N[,N...]]
               [--threshold T] [--empty-masks satisfied|exclude] [--memory-limit GIB]
               [LESION] [--json OUT] [--csv OUT] [--plots DIR]
  cls evaluate --probs DIR --labels DIR --paper-suite OUTDIR [--splits R] [--seed S]
  calibrate and evaluate take --scores DIR (case scores from cls score) for --probs and --labels
  cls --version
  cls COMMAND --help            each command's options, with an example

LESION: [--lesion-channels LIST [--combine sum|max]] [--lesion-labels LIST|nonzero]
  for maps with several channels (x, y, z, C; channels counted from 0) and labels with several
  classes. calibrate records them in the certificate; apply and assess read maps as it says.

synth --kind probabilities (the default) writes images/, labels/ and probs/ from a simulated
model; --kind scans writes FLAIR-like images/ and labels/ only, to train or test a real model.

A voxel is predicted lesion iff p >= threshold. CLS picks the threshold so that, for a new
case exchangeable with the calibration cases, P(FNR <= epsilon) >= 1 - alpha.
)";

// Cases come and go as volumes of one size. glibc would hand each freed volume back to the
// kernel (it maps blocks above a threshold, and trims the heap's top), and the next case would
// fault the same megabytes in again, zeroed: 40% of `cls calibrate`'s time went to page faults.
// Keeping freed memory for the next case costs nothing here: a run holds few cases at a time.
void keep_freed_memory() {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's largest: volumes up to 32 MiB from the heap
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
}

}  // namespace
}  // namespace cls::cli

int main(int argc, char** argv) {
    using namespace cls::cli;
    keep_freed_memory();
    const std::vector<std::string> words(argv + 1, argv + argc);
    if (words.empty() || words[0] == "--help" || words[0] == "-h" || words[0] == "help") {
        std::fputs(kUsageText, words.empty() ? stderr : stdout);
        return words.empty() ? kUsage : kSuccess;
    }
    if (words[0] == "--version") {
        std::printf("cls %s\n", cls::kVersion);
        return kSuccess;
    }
    const std::map<std::string, int (*)(Words)> commands = {
        {"info", run_info},   {"synth", run_synth},   {"calibrate", run_calibrate},
        {"apply", run_apply}, {"assess", run_assess}, {"evaluate", run_evaluate},
        {"score", run_score},
    };
    const auto command = commands.find(words[0]);
    if (command == commands.end()) {
        std::fprintf(stderr, "cls: unknown command '%s'\n\n%s", words[0].c_str(), kUsageText);
        return kUsage;
    }
    return command->second(Words(words).subspan(1));
}
