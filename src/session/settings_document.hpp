// The user's settings as the page stores them between visits (IndexedDB): calibration
// (cls::write_settings' keys, as in certificates), the region of interest
// ("region_of_interest", as in certificates), the exchangeability flag level ("flag_below")
// and how inference runs. Read leniently:
// settings an earlier version stored keep what still reads and fall back to defaults for the
// rest, never failing a start-up.
#pragma once

#include <string>
#include <string_view>

#include "cls/calibration.hpp"
#include "cls/exchangeability.hpp"
#include "cls/inference/sliding_window.hpp"
#include "cls/region_of_interest.hpp"

namespace cls::app {

struct InferenceOptions {
    inference::WindowSettings window;
    bool auto_run = true;      // run the model on every image that has no probability map
    bool allow_webgpu = true;  // else wasm only
};

struct UserSettings {
    CalibrationSettings calibration{.method = Method::cls, .epsilon = 0.1, .alpha = 0.1};
    InferenceOptions inference;
    RegionOfInterest region = RegionOfInterest::none;  // the certificate's key
    double flag_below = kDefaultFlagBelow;             // the exchangeability check's level
};

[[nodiscard]] std::string to_json(const UserSettings& settings);
// `stored` read over `defaults`; what does not read keeps the default.
[[nodiscard]] UserSettings read_user_settings(std::string_view stored,
                                              const UserSettings& defaults);

}  // namespace cls::app
