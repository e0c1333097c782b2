// The user's settings as the page stores them between visits (IndexedDB): calibration
// (cls::write_settings' keys, as in certificates) and how inference runs. Read leniently:
// settings an earlier version stored keep what still reads and fall back to defaults for the
// rest, never failing a start-up.
#pragma once

#include <string>
#include <string_view>

#include "cls/calibration.hpp"
#include "cls/inference/sliding_window.hpp"

namespace cls::app {

struct InferenceOptions {
    inference::WindowSettings window;
    bool auto_run = true;      // run the model on every image that has no probability map
    bool allow_webgpu = true;  // else wasm only
};

struct UserSettings {
    CalibrationSettings calibration{.method = Method::cls, .epsilon = 0.1, .alpha = 0.1};
    InferenceOptions inference;
};

[[nodiscard]] std::string to_json(const UserSettings& settings);
// `stored` read over `defaults`; what does not read keeps the default.
[[nodiscard]] UserSettings read_user_settings(std::string_view stored,
                                              const UserSettings& defaults);

}  // namespace cls::app
