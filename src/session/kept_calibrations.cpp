#include "kept_calibrations.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "cls/json_fields.hpp"

namespace cls::app {

void KeptCalibrations::keep(const Certificate& certificate) {
    const Calibration& c = certificate.calibration;
    char label[160];
    std::snprintf(label, sizeof label, "%s, eps %.3g, alpha %.3g, n %zu: tau %.6g",
                  std::string(to_string(c.settings.method)).c_str(), c.settings.epsilon,
                  c.settings.alpha, c.n, c.threshold);
    items_.push_back({label, cls::to_json(certificate)});
}

void KeptCalibrations::forget(std::size_t index) {
    if (index < items_.size()) items_.erase(items_.begin() + static_cast<std::ptrdiff_t>(index));
}

std::string KeptCalibrations::to_json() const {
    nlohmann::json list = nlohmann::json::array();
    for (const KeptCalibration& k : items_)
        list.push_back({{"label", k.label}, {"certificate", k.certificate_json}});
    return list.dump();
}

void KeptCalibrations::restore(std::string_view json) {
    const nlohmann::json document = nlohmann::json::parse(json, nullptr, false);
    if (!document.is_array()) return;
    items_.clear();
    for (const nlohmann::json& item : document) {
        if (!item.is_object()) continue;
        const FieldReader fields(item);
        KeptCalibration k{fields.optional_text("label"), fields.optional_text("certificate")};
        if (parse_certificate(k.certificate_json)) items_.push_back(std::move(k));
    }
}

}  // namespace cls::app
