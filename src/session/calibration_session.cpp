#include "calibration_session.hpp"

#include "cls/version.hpp"

namespace cls::app {

void CalibrationSession::refresh(const CaseStore& store) {
    if (store.generation() == generation_) return;
    generation_ = store.generation();
    cases_ = store.calibration_scores();
    profiles_ = store.calibration_profiles();
    region_ = store.region();
    result_.reset();
    crc_curve_.reset();
}

void CalibrationSession::set_settings(const CalibrationSettings& settings) {
    const bool same = settings.method == settings_.method &&
                      settings.epsilon == settings_.epsilon && settings.alpha == settings_.alpha &&
                      settings.empty_masks == settings_.empty_masks &&
                      settings.fixed_threshold == settings_.fixed_threshold;
    if (same) return;
    settings_ = settings;
    result_.reset();
}

const Result<Calibration>& CalibrationSession::result() {
    if (result_) return *result_;
    if (cases_.empty()) {
        result_ = Result<Calibration>(
            make_error("no labelled case yet: load probability maps with their labels"));
    } else {
        if (settings_.method == Method::crc && !crc_curve_) crc_curve_.emplace(cases_);
        result_ = calibrate(cases_, settings_, crc_curve_ ? &*crc_curve_ : nullptr);
    }
    return *result_;
}

std::vector<double> CalibrationSession::fnr_at_threshold() {
    std::vector<double> fnr;
    const Result<Calibration>& r = result();
    if (!r) return fnr;
    for (const LesionScores& c : cases_) {
        fnr.push_back(false_negative_rate(c.sorted_lesion_probabilities, r->threshold));
    }
    return fnr;
}

std::optional<Certificate> CalibrationSession::certificate(const CaseStore& store,
                                                           const LesionDefinition& lesion) {
    const Result<Calibration>& r = result();
    if (!r) return std::nullopt;
    Certificate certificate{*r, {}, kVersion, lesion, region_, profiles_};
    for (const LesionScores& c : cases_) {
        const LoadedCase* loaded = store.find(c.name);
        if (loaded && loaded->scored) {
            certificate.inputs.push_back(loaded->scored->inputs);
        } else {
            certificate.inputs.push_back(
                loaded ? InputHashes{loaded->sha256[static_cast<int>(Role::probability)],
                                     loaded->sha256[static_cast<int>(Role::label)]}
                       : InputHashes{});
        }
    }
    return certificate;
}

}  // namespace cls::app
