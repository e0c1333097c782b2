// What `apply` and `assess` read alike before their first case: the certificate that
// --calibration names, and the lesion definition, region inputs and flag level new cases are
// read with. The options may repeat what the certificate records, never change it: a case read
// otherwise than the calibration cases were is not covered by the guarantee.
#pragma once

#include <optional>
#include <string>

#include "arguments.hpp"
#include "case_regions.hpp"
#include "cls/certificate.hpp"

namespace cls::cli {

struct CertifiedOptions {
    std::string certificate_path;
    Certificate certificate;
    LesionDefinition lesion;
    RegionInputs region;
    double flag_level = kDefaultFlagBelow;
};

// Fills `out` and returns kSuccess, or reports the failure as `command` and returns its exit
// code (kUsage for an option that contradicts the certificate).
[[nodiscard]] int read_certified_options(const std::string& command, const Arguments& args,
                                         RegionInputKind kind, CertifiedOptions& out);

// A case's exchangeability check against the certificate's calibration cases; none when the
// certificate records no profiles (those before format_version 4).
[[nodiscard]] Result<std::optional<ExchangeabilityCheck>> check_against(
    const Certificate& certificate, const CaseProfile& profile);
// What is said in its place: "not checked (CERT records no case profiles; ...)".
[[nodiscard]] std::string unchecked_note(const std::string& certificate_path);

}  // namespace cls::cli
