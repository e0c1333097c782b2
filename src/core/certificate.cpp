#include "cls/certificate.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "case_profile_json.hpp"
#include "cls/json_fields.hpp"
#include "cls/settings_codec.hpp"
#include "lesion_definition_json.hpp"

namespace cls {
namespace {

using detail::case_profile_to_json;
using detail::lesion_channels_to_json;
using detail::lesion_labels_to_json;
using detail::parse_lesion_definition;
using nlohmann::json;

constexpr std::string_view kFormat = "cls-calibration-certificate";
// 2: lesion_channels and lesion_labels; 3: the empty-mask count is "empty_mask_count";
// 4: region_of_interest and case_profiles.
constexpr int kFormatVersion = 4;

// JSON has no infinity: +inf (an empty mask's critical threshold, or "predict nothing") is null.
json threshold_to_json(double t) { return t == kInfinity ? json(nullptr) : json(t); }

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
    const FieldReader r(item);
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

// "case_profiles": null (none recorded) or one profile per case.
Result<std::vector<CaseProfile>> parse_profiles(const json& document, std::size_t cases) {
    std::vector<CaseProfile> profiles;
    auto list = document.find("case_profiles");
    if (list == document.end() || list->is_null()) return profiles;
    if (!list->is_array() || list->size() != cases) {
        return make_error("field 'case_profiles' must be null or list one profile per case (" +
                          std::to_string(cases) + ")");
    }
    for (std::size_t i = 0; i < list->size(); ++i) {
        auto profile = detail::parse_case_profile((*list)[i]);
        if (!profile) return profile.error().in("case_profiles[" + std::to_string(i) + "]");
        profiles.push_back(*profile);
    }
    return profiles;
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
    json profiles = nullptr;
    if (!certificate.profiles.empty()) {
        profiles = json::array();
        for (const CaseProfile& p : certificate.profiles)
            profiles.push_back(case_profile_to_json(p));
    }
    json document = {
        {"format", kFormat},
        {"format_version", kFormatVersion},
        {"tool_version", certificate.tool_version},
        {"n", c.n},
        {"k", c.settings.method == Method::cls ? json(c.k) : json(nullptr)},
        {"threshold", threshold_to_json(c.threshold)},
        {"empty_mask_count", c.empty_mask_count},
        {"lesion_channels", lesion_channels_to_json(certificate.lesion.channels)},
        {"lesion_labels", lesion_labels_to_json(certificate.lesion.labels)},
        {"region_of_interest", to_string(certificate.region)},
        {"cases", std::move(cases)},
        {"case_profiles", std::move(profiles)},
    };
    write_settings(document, c.settings);
    // nlohmann prints doubles with round-trip precision, so the threshold reads back bit for bit.
    return document.dump(2) + "\n";
}

Result<Certificate> parse_certificate(std::string_view json_text) {
    const json document = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
    if (document.is_discarded()) return make_error("not valid JSON");
    if (!document.is_object()) return make_error("a certificate must be a JSON object");
    const FieldReader r(document);
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
    CLS_TRY_ASSIGN(certificate.region, detail::parse_region_field(document));
    Calibration& c = certificate.calibration;

    CLS_TRY_ASSIGN(c.settings, read_settings(r));
    CLS_TRY_ASSIGN(c.n, r.count("n"));
    if (c.settings.method == Method::cls) CLS_TRY_ASSIGN(c.k, r.count("k"));
    // Versions 1 and 2 called the count "empty_masks", the name the policy has elsewhere.
    CLS_TRY_ASSIGN(
        c.empty_mask_count,
        r.count(document.contains("empty_mask_count") ? "empty_mask_count" : "empty_masks"));
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
    CLS_TRY_ASSIGN(certificate.profiles, parse_profiles(document, c.cases.size()));
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
