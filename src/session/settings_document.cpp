#include "settings_document.hpp"

#include <nlohmann/json.hpp>

#include "cls/settings_codec.hpp"

namespace cls::app {

std::string to_json(const UserSettings& settings) {
    nlohmann::json document = {{"overlap", settings.inference.window.overlap},
                               {"mirror", settings.inference.window.mirror},
                               {"auto_run", settings.inference.auto_run},
                               {"allow_webgpu", settings.inference.allow_webgpu},
                               {"region_of_interest", to_string(settings.region)},
                               {"flag_below", settings.flag_below}};
    write_settings(document, settings.calibration, /*with_fixed_threshold=*/true);
    return document.dump();
}

UserSettings read_user_settings(std::string_view stored, const UserSettings& defaults) {
    const nlohmann::json document = nlohmann::json::parse(stored, nullptr, false);
    if (!document.is_object()) return defaults;
    const FieldReader fields(document);
    UserSettings settings = defaults;
    settings.calibration = read_settings_or(fields, defaults.calibration);
    inference::WindowSettings window = defaults.inference.window;
    fields.read_if("overlap", window.overlap);
    fields.read_if("mirror", window.mirror);
    if (window.overlap >= 0.0 && window.overlap < 1.0) settings.inference.window = window;
    fields.read_if("auto_run", settings.inference.auto_run);
    fields.read_if("allow_webgpu", settings.inference.allow_webgpu);
    if (auto region = parse_region_of_interest(fields.optional_text("region_of_interest"))) {
        settings.region = *region;
    }
    double flag_below = settings.flag_below;
    fields.read_if("flag_below", flag_below);
    if (validate_flag_level(flag_below)) settings.flag_below = flag_below;
    return settings;
}

}  // namespace cls::app
