// `cls apply --calibration CERT.json --probs P.nii[.gz] --out MASK.nii.gz`: the mask p >= tau
// as uint8, in the probability map's grid and affine. Warns when the map is one the
// certificate was calibrated on.
#include <cstdio>

#include "arguments.hpp"
#include "cls/certificate.hpp"
#include "cls/io/file.hpp"
#include "commands.hpp"

namespace cls::cli {

int run_apply(Words words) {
    const std::string command = "apply";
    auto args =
        Arguments::parse(words, {.valued = {"--calibration", "--probs", "--out"}, .switches = {}});
    if (!args) return fail(command, args.error().message, kUsage);
    auto certificate_path = args->text("--calibration");
    auto probs_path = args->text("--probs");
    auto out = args->text("--out");
    if (!certificate_path) return fail(command, certificate_path.error().message, kUsage);
    if (!probs_path) return fail(command, probs_path.error().message, kUsage);
    if (!out) return fail(command, out.error().message, kUsage);

    auto certificate = io::load_certificate(*certificate_path);
    if (!certificate) return fail(command, certificate.error().message);
    auto probs = io::load_nifti(*probs_path);
    if (!probs) return fail(command, probs.error().message);
    const Volume& p = probs->image.volume;
    if (Status valid = check_probabilities(p.values()); !valid) {
        return fail(command, valid.error().in(*probs_path).message);
    }

    // A calibration case's mask is a fair thing to want (to look at it), but it is not a new
    // case, which is what the guarantee speaks of: warned, not refused.
    if (auto index = find_calibration_case(*certificate, probs->sha256)) {
        warn(command, *probs_path + ": is calibration case '" +
                          certificate->calibration.cases[*index].name + "' of " +
                          *certificate_path +
                          " (same SHA-256); its guarantee is for new cases, not for those it was "
                          "calibrated on");
    }

    const double threshold = certificate->calibration.threshold;
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
    return kSuccess;
}

}  // namespace cls::cli
