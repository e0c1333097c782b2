// `cls apply --calibration CERT.json --probs P.nii[.gz]|P.npz [--reference IMG] [--image IMG]
//  [--roi-mask MASK] [--flag-below P] [--json OUT] --out MASK.nii.gz`:
// the mask p >= tau as uint8, in the probability map's grid and affine, the map read as the
// certificate's calibration cases were (its lesion channels, restricted to its region of
// interest). nnU-Net's .npz has no grid of its own: the case's image or label given as
// --reference lends it one. Says how like the calibration cases the new case is (the conformal
// p-value of cls/exchangeability.hpp) and warns when it is unlike them, or is one of them.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>

#include "arguments.hpp"
#include "case_loading.hpp"
#include "case_regions.hpp"
#include "certified_options.hpp"
#include "cls/certificate.hpp"
#include "cls/io/file.hpp"
#include "cls/io/npz.hpp"
#include "commands.hpp"

namespace cls::cli {
namespace {

CommandSpec spec() {
    CommandSpec spec{
        .name = "apply",
        .summary =
            "Writes the mask p >= tau of a new case's probability map (uint8, in the "
            "map's grid and affine), tau from a calibration certificate; a multi-channel "
            "map is read with the certificate's lesion channels.",
        .options =
            {
                {"--calibration", "CERT.json", "the certificate cls calibrate wrote"},
                {"--probs", "P.nii[.gz]|P.npz", "the new case's probability map"},
                {"--reference", "IMG.nii[.gz]",
                 "the case's image or label: the grid of an nnU-Net .npz map (needed for "
                 ".npz; checked against a NIfTI map)"},
                {"--out", "MASK.nii.gz", "the mask (.nii or .nii.gz)"},
                {"--json", "OUT", "also write the figures and the exchangeability check as JSON"},
            },
        .positional = "",
        .example =
            "cls apply --calibration cert.json --probs new/case_031.nii.gz "
            "--out case_031_mask.nii.gz",
    };
    spec.add(lesion_options(false));
    spec.add(region_options(RegionInputKind::files, /*flag=*/true));
    return spec;
}

}  // namespace

int run_apply(Words words) {
    const std::string command = "apply";
    auto args = Arguments::parse(words, spec());
    if (!args) return fail(command, args.error().message, kUsage);
    if (args->help_requested()) return print_help(*args);
    auto probs_path = args->text("--probs");
    auto out = args->text("--out");
    if (!probs_path) return fail(command, probs_path.error().message, kUsage);
    if (!out) return fail(command, out.error().message, kUsage);
    CertifiedOptions certified;
    if (int read = read_certified_options(command, *args, RegionInputKind::files, certified);
        read != kSuccess) {
        return read;
    }
    const Certificate& certificate = certified.certificate;
    const std::string& certificate_path = certified.certificate_path;
    const std::string reference_path = args->text_or("--reference", "");
    std::optional<io::LoadedNifti> reference;
    if (!reference_path.empty()) {
        auto loaded = io::load_nifti(reference_path);
        if (!loaded) return fail(command, loaded.error().message);
        reference = std::move(*loaded);
    }
    auto probs = io::load_case_probability_map(*probs_path, certified.lesion.channels,
                                               reference ? &reference->image.volume : nullptr);
    if (!probs) return fail(command, probs.error().message);
    auto profile = restrict_and_profile(probs->image.volume, *probs_path, certified.region.region,
                                        certified.region.images, certified.region.masks);
    if (!profile) return fail(command, profile.error().message);
    const Volume& p = probs->image.volume;
    if (reference) {
        if (Status grid =
                check_same_grid(p, reference->image.volume, "the reference " + reference_path);
            !grid) {
            return fail(command, grid.error().in(*probs_path).message);
        }
    }

    // A calibration case's mask is a fair thing to want (to look at it), but it is not a new
    // case, which is what the guarantee speaks of: warned, not refused.
    if (auto index = find_calibration_case(certificate, probs->sha256)) {
        warn(command, *probs_path + ": is calibration case '" +
                          certificate.calibration.cases[*index].name + "' of " + certificate_path +
                          " (same SHA-256); its guarantee is for new cases, not for those it was "
                          "calibrated on");
    }

    auto checked = check_against(certificate, *profile);
    if (!checked) return fail(command, checked.error().message);
    const std::optional<ExchangeabilityCheck>& check = *checked;

    const double threshold = certificate.calibration.threshold;
    Volume mask(p.dims(), p.affine());
    const std::vector<std::uint8_t> predicted = predict_mask(p.values(), threshold);
    std::size_t positives = 0;
    for (std::size_t i = 0; i < predicted.size(); ++i) {
        mask.data()[i] = predicted[i];
        positives += predicted[i];
    }
    if (Status saved = io::save_nifti(*out, mask, {.datatype = nifti::DataType::uint8}); !saved) {
        return fail(command, saved.error().message);
    }
    std::printf("threshold %.9g: %zu of %zu voxels predicted lesion, mask written to %s\n",
                threshold, positives, predicted.size(), out->c_str());
    if (check) {
        // Too few calibration cases to flag anything at this level is said beside the p-value.
        const std::string note = flag_level_note(check->compared_with, certified.flag_level);
        std::printf("exchangeability: %s%s\n", describe_check(*check).c_str(),
                    note.empty() ? "" : ("; " + note).c_str());
        if (flagged(*check, certified.flag_level)) {
            warn(command, *probs_path + ": " + unlike_warning(*check));
        }
    } else {
        std::printf("exchangeability: %s\n", unchecked_note(certificate_path).c_str());
    }
    if (args->has("--json")) {
        const nlohmann::json report = {
            {"threshold",
             threshold == kInfinity ? nlohmann::json(nullptr) : nlohmann::json(threshold)},
            {"voxels", predicted.size()},
            {"predicted_voxels", positives},
            {"region_of_interest", to_string(certified.region.region)},
            {"exchangeability", check_json(check, certified.flag_level)}};
        const std::string text = report.dump(2) + "\n";
        if (Status written =
                io::write_file_atomic(*args->text("--json"), {text.begin(), text.end()});
            !written) {
            return fail(command, written.error().message);
        }
    }
    return kSuccess;
}

}  // namespace cls::cli
