#include "cls/settings_codec.hpp"

namespace cls {

void write_settings(nlohmann::json& document, const CalibrationSettings& settings,
                    bool with_fixed_threshold) {
    document["method"] = to_string(settings.method);
    document["epsilon"] = settings.epsilon;
    document["alpha"] = settings.alpha;
    document["empty_mask_policy"] = to_string(settings.empty_masks);
    if (with_fixed_threshold || settings.method == Method::fixed)
        document["fixed_threshold"] = settings.fixed_threshold;
}

Result<CalibrationSettings> read_settings(const FieldReader& fields) {
    CalibrationSettings settings;
    std::string text;
    CLS_TRY_ASSIGN(text, fields.text("method"));
    CLS_TRY_ASSIGN(settings.method, parse_method(text));
    CLS_TRY_ASSIGN(text, fields.text("empty_mask_policy"));
    CLS_TRY_ASSIGN(settings.empty_masks, parse_empty_mask_policy(text));
    CLS_TRY_ASSIGN(settings.epsilon, fields.number("epsilon"));
    CLS_TRY_ASSIGN(settings.alpha, fields.number("alpha"));
    if (settings.method == Method::fixed) {
        CLS_TRY_ASSIGN(settings.fixed_threshold, fields.number("fixed_threshold"));
    }
    if (Status valid = validate(settings); !valid) return valid.error();
    return settings;
}

CalibrationSettings read_settings_or(const FieldReader& fields,
                                     const CalibrationSettings& fallback) {
    CalibrationSettings settings = fallback;
    if (auto method = parse_method(fields.optional_text("method"))) settings.method = *method;
    for (const char* key : {"empty_masks", "empty_mask_policy"}) {
        if (auto policy = parse_empty_mask_policy(fields.optional_text(key)))
            settings.empty_masks = *policy;
    }
    fields.read_if("epsilon", settings.epsilon);
    fields.read_if("alpha", settings.alpha);
    fields.read_if("fixed_threshold", settings.fixed_threshold);
    return validate(settings) ? settings : fallback;
}

}  // namespace cls
