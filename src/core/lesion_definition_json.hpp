// The JSON form of a LesionDefinition, shared by every document that records one (the
// calibration certificate, the case score), so the same choice has the same keys everywhere:
// "lesion_channels": null or {"channels": [1, 2], "combine": "sum"|"max"};
// "lesion_labels": "binary", "nonzero" or a list of classes [1, 2, 4].
// Private to the core. Reading runs without exceptions (they are off in WebAssembly).
#pragma once

#include <nlohmann/json.hpp>

#include "cls/lesion_definition.hpp"
#include "cls/result.hpp"

namespace cls::detail {

[[nodiscard]] nlohmann::json lesion_channels_to_json(const LesionChannels& channels);
[[nodiscard]] nlohmann::json lesion_labels_to_json(const LesionLabels& labels);
// Reads "lesion_channels" and "lesion_labels" from `document`; absent keys mean a
// single-channel map and binary labels (what certificates before format_version 2 held).
[[nodiscard]] Result<LesionDefinition> parse_lesion_definition(const nlohmann::json& document);

}  // namespace cls::detail
