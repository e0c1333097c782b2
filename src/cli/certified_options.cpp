#include "certified_options.hpp"

#include "case_loading.hpp"
#include "cls/io/file.hpp"
#include "commands.hpp"

namespace cls::cli {

int read_certified_options(const std::string& command, const Arguments& args, RegionInputKind kind,
                           CertifiedOptions& out) {
    auto path = args.text("--calibration");
    if (!path) return fail(command, path.error().message, kUsage);
    out.certificate_path = std::move(*path);
    auto certificate = io::load_certificate(out.certificate_path);
    if (!certificate) return fail(command, certificate.error().message);
    out.certificate = std::move(*certificate);
    auto lesion = certificate_lesion_definition(args, out.certificate.lesion, out.certificate_path);
    if (!lesion) return fail(command, lesion.error().message, kUsage);
    out.lesion = *lesion;
    auto region = recorded_region_inputs(args, kind, out.certificate.region,
                                         "what " + out.certificate_path + " was calibrated on");
    if (!region) return fail(command, region.error().message, kUsage);
    out.region = std::move(*region);
    auto level = read_flag_level(args);
    if (!level) return fail(command, level.error().message, kUsage);
    out.flag_level = *level;
    return kSuccess;
}

Result<std::optional<ExchangeabilityCheck>> check_against(const Certificate& certificate,
                                                          const CaseProfile& profile) {
    if (certificate.profiles.empty()) return std::optional<ExchangeabilityCheck>();
    auto check = check_exchangeability(certificate.profiles, profile);
    if (!check) return check.error();
    return std::optional<ExchangeabilityCheck>(*check);
}

std::string unchecked_note(const std::string& certificate_path) {
    return "not checked (" + certificate_path +
           " records no case profiles; certificates before format_version 4 do not)";
}

}  // namespace cls::cli
