#include "cls/certificate.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "lesion_definition_json.hpp"

namespace cls {
namespace {

using detail::lesion_channels_to_json;
using detail::lesion_labels_to_json;
using detail::parse_lesion_definition;
using nlohmann::json;

constexpr std::string_view kFormat = "cls-calibration-certificate";
constexpr int kFormatVersion = 2;  // 2: lesion_channels and lesion_labels

// JSON has no infinity: +inf (an empty mask's critical threshold, or "predict nothing") is null.
json threshold_to_json(double t) { return t == kInfinity ? json(nullptr) : json(t); }

// Reading is written without exceptions (they are off in the WebAssembly build): every field
// is type-checked before it is read.
class Reader {
public:
    explicit Reader(const json& object) : object_(object) {}

    Result<double> number(const char* key) const {
        auto it = object_.find(key);
        if (it == object_.end() || !it->is_number()) return missing(key, "a number");
        return it->get<double>();
    }
    Result<double> threshold(const char* key) const {
        auto it = object_.find(key);
        if (it != object_.end() && it->is_null()) return kInfinity;
        return number(key);
    }
    Result<std::size_t> count(const char* key) const {
        auto it = object_.find(key);
        if (it == object_.end() || !it->is_number_unsigned()) return missing(key, "a count");
        return it->get<std::size_t>();
    }
    Result<std::string> text(const char* key) const {
        auto it = object_.find(key);
        if (it == object_.end() || !it->is_string()) return missing(key, "a string");
        return it->get<std::string>();
    }
    std::string optional_text(const char* key) const {
        auto it = object_.find(key);
        return it != object_.end() && it->is_string() ? it->get<std::string>() : std::string();
    }

private:
    static Error missing(const char* key, const char* kind) {
        return make_error(std::string("field '") + key + "' must be " + kind);
    }
    const json& object_;
};

// Every threshold is a probability (an order statistic, a breakpoint or the fixed cut) or
// +inf; anything else was written by hand, and p >= 1.5 would silently predict nothing.
Status check_threshold(const char* key, double t) {
    if ((t >= 0.0 && t <= 1.0) || t == kInfinity) return Done{};
    char text[32];
    std::snprintf(text, sizeof text, "%.9g", t);
    return make_error(std::string("field '") + key + "' must be in [0, 1], or null for +inf " +
                      "(predict nothing), got " + text);
}

Result<CaseCalibration> parse_case(const json& item, InputHashes& hashes) {
    if (!item.is_object()) return make_error("each entry of 'cases' must be an object");
    Reader r(item);
    CaseCalibration c;
    CLS_TRY_ASSIGN(c.name, r.text("name"));
    CLS_TRY_ASSIGN(c.lesion_voxels, r.count("lesion_voxels"));
    CLS_TRY_ASSIGN(c.critical_threshold, r.threshold("critical_threshold"));
    if (Status valid = check_threshold("critical_threshold", c.critical_threshold); !valid) {
        return valid.error().in("case '" + c.name + "'");
    }
    auto excluded = item.find("excluded");
    c.excluded = excluded != item.end() && excluded->is_boolean() && excluded->get<bool>();
    hashes.probabilities_sha256 = r.optional_text("probabilities_sha256");
    hashes.label_sha256 = r.optional_text("label_sha256");
    return c;
}

}  // namespace

std::string to_json(const Certificate& certificate) {
    const Calibration& c = certificate.calibration;
    json cases = json::array();
    for (std::size_t i = 0; i < c.cases.size(); ++i) {
        const CaseCalibration& item = c.cases[i];
        json entry = {{"name", item.name},
                      {"lesion_voxels", item.lesion_voxels},
                      {"critical_threshold", threshold_to_json(item.critical_threshold)},
                      {"excluded", item.excluded}};
        if (i < certificate.inputs.size()) {
            entry["probabilities_sha256"] = certificate.inputs[i].probabilities_sha256;
            entry["label_sha256"] = certificate.inputs[i].label_sha256;
        }
        cases.push_back(std::move(entry));
    }
    json document = {
        {"format", kFormat},
        {"format_version", kFormatVersion},
        {"tool_version", certificate.tool_version},
        {"method", to_string(c.settings.method)},
        {"epsilon", c.settings.epsilon},
        {"alpha", c.settings.alpha},
        {"n", c.n},
        {"k", c.settings.method == Method::cls ? json(c.k) : json(nullptr)},
        {"threshold", threshold_to_json(c.threshold)},
        {"empty_mask_policy", to_string(c.settings.empty_masks)},
        {"empty_masks", c.empty_masks},
        {"lesion_channels", lesion_channels_to_json(certificate.lesion.channels)},
        {"lesion_labels", lesion_labels_to_json(certificate.lesion.labels)},
        {"cases", std::move(cases)},
    };
    if (c.settings.method == Method::fixed)
        document["fixed_threshold"] = c.settings.fixed_threshold;
    // nlohmann prints doubles with round-trip precision, so the threshold reads back bit for bit.
    return document.dump(2) + "\n";
}

Result<Certificate> parse_certificate(std::string_view json_text) {
    const json document = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
    if (document.is_discarded()) return make_error("not valid JSON");
    if (!document.is_object()) return make_error("a certificate must be a JSON object");
    Reader r(document);
    if (r.optional_text("format") != kFormat) {
        return make_error("not a calibration certificate (field 'format' is not '" +
                          std::string(kFormat) + "')");
    }
    auto version = document.find("format_version");
    if (version != document.end() && version->is_number_unsigned() &&
        version->get<std::uint64_t>() > static_cast<std::uint64_t>(kFormatVersion)) {
        return make_error("format_version " + std::to_string(version->get<std::uint64_t>()) +
                          " is newer than this tool reads (" + std::to_string(kFormatVersion) +
                          "); use a newer cls");
    }
    Certificate certificate;
    certificate.tool_version = r.optional_text("tool_version");
    CLS_TRY_ASSIGN(certificate.lesion, parse_lesion_definition(document));
    Calibration& c = certificate.calibration;

    std::string text;
    CLS_TRY_ASSIGN(text, r.text("method"));
    CLS_TRY_ASSIGN(c.settings.method, parse_method(text));
    CLS_TRY_ASSIGN(text, r.text("empty_mask_policy"));
    CLS_TRY_ASSIGN(c.settings.empty_masks, parse_empty_mask_policy(text));
    CLS_TRY_ASSIGN(c.settings.epsilon, r.number("epsilon"));
    CLS_TRY_ASSIGN(c.settings.alpha, r.number("alpha"));
    if (c.settings.method == Method::fixed) {
        CLS_TRY_ASSIGN(c.settings.fixed_threshold, r.number("fixed_threshold"));
    }
    if (Status valid = validate(c.settings); !valid) return valid.error();
    CLS_TRY_ASSIGN(c.n, r.count("n"));
    if (c.settings.method == Method::cls) CLS_TRY_ASSIGN(c.k, r.count("k"));
    CLS_TRY_ASSIGN(c.empty_masks, r.count("empty_masks"));
    CLS_TRY_ASSIGN(c.threshold, r.threshold("threshold"));
    if (Status valid = check_threshold("threshold", c.threshold); !valid) return valid.error();

    auto cases = document.find("cases");
    if (cases == document.end() || !cases->is_array()) {
        return make_error("field 'cases' must be an array");
    }
    for (const json& item : *cases) {
        InputHashes hashes;
        CaseCalibration parsed;
        CLS_TRY_ASSIGN(parsed, parse_case(item, hashes));
        c.cases.push_back(std::move(parsed));
        certificate.inputs.push_back(std::move(hashes));
    }
    return certificate;
}

std::optional<std::size_t> find_calibration_case(const Certificate& certificate,
                                                 std::string_view probabilities_sha256,
                                                 std::string_view label_sha256) {
    if (probabilities_sha256.empty()) return std::nullopt;
    const std::size_t count =
        std::min(certificate.inputs.size(), certificate.calibration.cases.size());
    for (std::size_t i = 0; i < count; ++i) {
        const InputHashes& recorded = certificate.inputs[i];
        if (recorded.probabilities_sha256 != probabilities_sha256) continue;
        if (label_sha256.empty() || recorded.label_sha256 == label_sha256) return i;
    }
    return std::nullopt;
}

}  // namespace cls
