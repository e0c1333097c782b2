// The calibration certificate: what `cls calibrate` writes and `cls apply` reads, and what the
// browser app will export and import in the same format. It records the settings, the
// threshold (round-trip precision, null for +inf), every case's critical threshold and the
// SHA-256 of every input file, so a threshold can be traced back to the exact data, and what
// counted as lesion in those files (the probability channels and label classes), so `apply`
// reads a new case's map exactly as calibration read the calibration cases'.
// format_version 2 added `lesion_channels` and `lesion_labels`; version 1 files read as a
// single-channel map with binary labels, which is all version 1 could calibrate on.
// format_version 4 added `region_of_interest` (cls/region_of_interest.hpp: how every map was
// restricted before calibration; older files read as "none") and `case_profiles` (each
// calibration case's statistics, cls/exchangeability.hpp, for the check that a new case is like
// them; older files have none, and the check then says it cannot be made).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cls/calibration.hpp"
#include "cls/exchangeability.hpp"
#include "cls/lesion_definition.hpp"
#include "cls/region_of_interest.hpp"
#include "cls/result.hpp"

namespace cls {

struct InputHashes {
    std::string probabilities_sha256;
    std::string label_sha256;
};

struct Certificate {
    Calibration calibration;
    std::vector<InputHashes> inputs;  // one per calibration case, in the same order
    std::string tool_version;
    LesionDefinition lesion;                           // how the calibration cases' files were read
    RegionOfInterest region = RegionOfInterest::none;  // how their maps were restricted
    std::vector<CaseProfile> profiles;  // one per calibration case in order, or none at all
};

[[nodiscard]] std::string to_json(const Certificate& certificate);

// Parses and checks a certificate: known method, settings in range, the threshold and every
// case's critical threshold in [0, 1] or null (+inf), a known region, and a profile for every
// case or none. It does not recompute the threshold from
// the cases, so a hand-edited certificate that stays in range is read as written.
[[nodiscard]] Result<Certificate> parse_certificate(std::string_view json_text);

// The calibration case (an index into calibration.cases) whose recorded SHA-256s equal these:
// the same probability map and, unless `label_sha256` is empty, the same label. Data a
// certificate was calibrated on is not new data for it, which `cls assess` must know.
[[nodiscard]] std::optional<std::size_t> find_calibration_case(
    const Certificate& certificate, std::string_view probabilities_sha256,
    std::string_view label_sha256 = {});

}  // namespace cls
