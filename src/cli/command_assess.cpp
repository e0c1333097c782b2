// `cls assess --calibration CERT.json --probs DIR --labels DIR [--images DIR] [--roi-masks DIR]
//  [--flag-below P] [--json OUT]`
// Applies a certificate's threshold to held-out labelled cases (their maps restricted to its
// region of interest) and reports, beside the fixed 0.5 cut, how many cases meet
// FNR <= epsilon: the promise calibration makes, checked. Each case's exchangeability p-value
// against the calibration cases is listed, and the cases unlike them are flagged. Cases the
// certificate was calibrated on (the same SHA-256s) are refused: they check nothing.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>

#include "arguments.hpp"
#include "case_loading.hpp"
#include "case_regions.hpp"
#include "certified_options.hpp"
#include "cls/certificate.hpp"
#include "cls/metrics.hpp"
#include "commands.hpp"

namespace cls::cli {
namespace {

constexpr double kFixedThreshold = 0.5;

struct Tally {
    std::size_t counted = 0;  // cases the coverage is measured over
    std::size_t covered = 0;  // of those, FNR <= epsilon
    std::size_t missed = 0;   // cases with lesions entirely missed
    double fnr_sum = 0.0, dice_sum = 0.0, compactness_sum = 0.0;

    void add(const CaseMetrics& m, double epsilon) {
        ++counted;
        covered += m.fnr <= epsilon;
        missed += m.missed_lesion;
        fnr_sum += m.fnr;
        dice_sum += m.dice;
        compactness_sum += m.compactness;
    }
    [[nodiscard]] double mean(double sum) const {
        return counted ? sum / static_cast<double>(counted) : 0.0;
    }
    [[nodiscard]] double coverage() const { return mean(static_cast<double>(covered)); }
    [[nodiscard]] nlohmann::json to_json(double threshold) const {
        return {{"threshold",
                 threshold == kInfinity ? nlohmann::json(nullptr) : nlohmann::json(threshold)},
                {"cases", counted},
                {"covered", covered},
                {"coverage", coverage()},
                {"mean_fnr", mean(fnr_sum)},
                {"mean_dice", mean(dice_sum)},
                {"mean_compactness", mean(compactness_sum)},
                {"missed_lesion_cases", missed}};
    }
};

std::string list_some(const std::vector<std::string>& items) {
    constexpr std::size_t kShown = 3;
    std::string text;
    for (std::size_t i = 0; i < items.size() && i < kShown; ++i) {
        text += (i ? ", " : "") + items[i];
    }
    if (items.size() > kShown) text += " and " + std::to_string(items.size() - kShown) + " more";
    return text;
}

nlohmann::json case_json(const CaseMetrics& m) {
    return {{"name", m.name},
            {"lesion_voxels", m.lesion_voxels},
            {"predicted_voxels", m.predicted_voxels},
            {"fnr", m.fnr},
            {"fpr", m.fpr},
            {"dice", m.dice},
            {"precision", m.precision ? nlohmann::json(*m.precision) : nlohmann::json(nullptr)},
            {"compactness", m.compactness},
            {"missed_lesion", m.missed_lesion},
            {"lesions", m.lesions},
            {"lesions_detected", m.lesions_detected}};
}

CommandSpec spec() {
    CommandSpec spec{
        .name = "assess",
        .summary =
            "Checks a certificate on held-out labelled cases: per case FNR and Dice at tau "
            "and at 0.5, and how many meet FNR <= epsilon. Maps and labels are read as "
            "the certificate's calibration cases were.",
        .options =
            {
                {"--calibration", "CERT.json", "the certificate cls calibrate wrote"},
                {"--probs", "DIR", "held-out probability maps"},
                {"--labels", "DIR", "their labels, same case names"},
                {"--json", "OUT", "also write every figure as JSON"},
            },
        .positional = "",
        .example = "cls assess --calibration cert.json --probs test/probs --labels test/labels",
    };
    spec.add(lesion_options(true));
    spec.add(region_options(RegionInputKind::folders, /*flag=*/true));
    spec.add({threads_option()});
    return spec;
}

}  // namespace

int run_assess(Words words) {
    const std::string command = "assess";
    auto args = Arguments::parse(words, spec());
    if (!args) return fail(command, args.error().message, kUsage);
    if (args->help_requested()) return print_help(*args);
    auto probs = args->text("--probs");
    auto labels = args->text("--labels");
    if (!probs) return fail(command, probs.error().message, kUsage);
    if (!labels) return fail(command, labels.error().message, kUsage);
    CertifiedOptions certified;
    if (int read = read_certified_options(command, *args, RegionInputKind::folders, certified);
        read != kSuccess) {
        return read;
    }
    auto regions = CaseRegions::open(certified.region);
    if (!regions) return fail(command, regions.error().message);
    const Certificate& certificate = certified.certificate;
    const double level = certified.flag_level;
    const Calibration& calibration = certificate.calibration;
    const double epsilon = calibration.settings.epsilon;
    const bool exclude_empty = calibration.settings.empty_masks == EmptyMaskPolicy::exclude;

    Tally calibrated, fixed;
    std::vector<std::string> reused;  // assessed files the certificate was calibrated on
    nlohmann::json cases = nlohmann::json::array();
    std::vector<CaseMetrics> rows;
    std::vector<std::optional<ExchangeabilityCheck>> checks;
    auto threads = read_threads(*args);
    if (!threads) return fail(command, threads.error().message, kUsage);
    struct Scored {
        CaseMetrics at_tau;
        CaseMetrics at_fixed;
        std::optional<std::string> calibrated_on;  // the map's path, if calibration used it
        std::optional<ExchangeabilityCheck> check;
    };
    Status streamed = for_each_labelled_case<Scored>(
        {*probs, *labels}, certified.lesion, "assess", *threads,
        [&](LabelledCase& c) -> Result<Scored> {
            auto profile =
                regions->prepare(c.name, c.probabilities.image.volume, c.probabilities_path);
            if (!profile) return profile.error();
            auto check = check_against(certificate, *profile);
            if (!check) return check.error();
            const Volume& p = c.probabilities.image.volume;
            const Volume& l = c.label.image.volume;
            auto at_tau = measure_case(c.name, p, l, calibration.threshold);
            auto at_fixed = measure_case(c.name, p, l, kFixedThreshold);
            if (!at_tau) return at_tau.error();
            if (!at_fixed) return at_fixed.error();
            std::optional<std::string> calibrated_on;
            if (find_calibration_case(certificate, c.probabilities.sha256, c.label.sha256)) {
                calibrated_on = c.probabilities_path.string();
            }
            return Scored{std::move(*at_tau), std::move(*at_fixed), std::move(calibrated_on),
                          *check};
        },
        [&](Scored& c) -> Status {
            if (c.calibrated_on) reused.push_back(std::move(*c.calibrated_on));
            // The guarantee is stated over the cases calibration counted: with "exclude", empty
            // masks are outside it.
            if (!(exclude_empty && !c.at_tau.has_lesion())) {
                calibrated.add(c.at_tau, epsilon);
                fixed.add(c.at_fixed, epsilon);
            }
            cases.push_back({{"calibrated", case_json(c.at_tau)},
                             {"fixed", case_json(c.at_fixed)},
                             {"exchangeability", check_json(c.check, level)}});
            rows.push_back(std::move(c.at_tau));
            checks.push_back(c.check);
            return Done{};
        });
    if (!streamed) return fail(command, streamed.error().message);
    // Coverage measured on calibration cases is not a check of the guarantee (it holds for new
    // cases), and would look better than it is: refused, not warned, since that is all assess
    // reports. cls evaluate is the tool for splitting one set into calibration and test cases.
    if (!reused.empty()) {
        return fail(command, certified.certificate_path + " was calibrated on " +
                                 std::to_string(reused.size()) + " of the " +
                                 std::to_string(rows.size()) +
                                 " cases assessed (same SHA-256 for the probability map and the "
                                 "label): " +
                                 list_some(reused) +
                                 "; assess checks the guarantee on held-out cases only (to split "
                                 "one set into calibration and test cases, use cls evaluate)");
    }

    std::printf("%-16s %9s %9s %7s %7s %7s\n", "case", "lesion", "predicted", "FNR", "Dice", "p");
    std::size_t unlike = 0;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const CaseMetrics& m = rows[i];
        char p_text[16] = "-";
        if (checks[i]) std::snprintf(p_text, sizeof p_text, "%.3g", checks[i]->p_value);
        const bool is_unlike = checks[i] && flagged(*checks[i], level);
        unlike += is_unlike;
        std::printf("%-16s %9zu %9zu %7.3f %7.3f %7s%s%s\n", m.name.c_str(), m.lesion_voxels,
                    m.predicted_voxels, m.fnr, m.dice, p_text,
                    m.has_lesion() && m.fnr > epsilon ? "  FNR > epsilon" : "",
                    is_unlike ? "  unlike" : "");
    }
    for (std::size_t i = 0; i < rows.size(); ++i) {
        if (checks[i] && flagged(*checks[i], level)) {
            std::printf("%s: %s\n", rows[i].name.c_str(), unlike_warning(*checks[i]).c_str());
        }
    }
    std::printf("\n%-22s %12s %22s %9s %9s\n", "threshold", "value", "cases with FNR<=eps",
                "mean FNR", "mean Dice");
    const auto line = [&](const char* label, double t, const Tally& tally) {
        std::printf("%-22s %12.6g %13zu/%-3zu %5.3f %9.3f %9.3f\n", label, t, tally.covered,
                    tally.counted, tally.coverage(), tally.mean(tally.fnr_sum),
                    tally.mean(tally.dice_sum));
    };
    line(("calibrated (" + std::string(to_string(calibration.settings.method)) + ")").c_str(),
         calibration.threshold, calibrated);
    line("fixed", kFixedThreshold, fixed);
    std::printf("epsilon = %g, alpha = %g: CLS promises P(FNR <= epsilon) >= %g for a new case\n",
                epsilon, calibration.settings.alpha, 1.0 - calibration.settings.alpha);
    if (certificate.profiles.empty()) {
        std::printf("exchangeability: %s\n", unchecked_note(certified.certificate_path).c_str());
    } else {
        std::printf(
            "exchangeability: %zu of %zu cases unlike the calibration set (p <= %g); at "
            "most %g of exchangeable cases are flagged\n",
            unlike, rows.size(), level, level);
        if (const std::string note = flag_level_note(certificate.profiles.size(), level);
            !note.empty()) {
            std::printf("exchangeability: %s\n", note.c_str());
        }
    }

    if (args->has("--json")) {
        const nlohmann::json report = {{"epsilon", epsilon},
                                       {"alpha", calibration.settings.alpha},
                                       {"method", to_string(calibration.settings.method)},
                                       {"region_of_interest", to_string(certificate.region)},
                                       {"flag_below", level},
                                       {"unlike_cases", unlike},
                                       {"calibrated", calibrated.to_json(calibration.threshold)},
                                       {"fixed", fixed.to_json(kFixedThreshold)},
                                       {"cases", std::move(cases)}};
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
