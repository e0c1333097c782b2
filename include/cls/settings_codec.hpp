// CalibrationSettings in JSON with the same keys in every document that holds them: the
// certificate, the app's persisted settings and its state: "method", "epsilon", "alpha",
// "empty_mask_policy" and "fixed_threshold". Read through cls::FieldReader, so a bad field is
// refused in the words every document uses.
#pragma once

#include <nlohmann/json.hpp>

#include "cls/calibration.hpp"
#include "cls/json_fields.hpp"
#include "cls/result.hpp"

namespace cls {

// Writes the settings into `document`; fixed_threshold only for the fixed method unless
// `with_fixed_threshold` (persisted settings keep the slider's value for later).
void write_settings(nlohmann::json& document, const CalibrationSettings& settings,
                    bool with_fixed_threshold = false);

// Strict, for certificates: every key required (fixed_threshold for the fixed method only),
// then the ranges validated.
[[nodiscard]] Result<CalibrationSettings> read_settings(const FieldReader& fields);

// Lenient, for settings stored by this or an earlier version: each key read when present and
// well typed ("empty_masks", the policy's older name, too), the rest as in `fallback`; settings
// out of range give `fallback` whole.
[[nodiscard]] CalibrationSettings read_settings_or(const FieldReader& fields,
                                                   const CalibrationSettings& fallback);

}  // namespace cls
