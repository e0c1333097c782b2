// Live calibration for the app: the labelled cases' sorted lesion probabilities are copied once
// when the set changes, and moving a slider only re-runs the exact calibration on them (an
// O(1) critical threshold per case plus one selection for CLS; a binary search on a risk curve
// built once per case set for CRC), well within a frame for a thousand cases. Also what the
// calibration panel plots: FNR curves and critical thresholds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "case_store.hpp"
#include "cls/calibration.hpp"
#include "cls/certificate.hpp"

namespace cls::app {

class CalibrationSession {
public:
    // Takes the store's labelled cases; cheap when nothing changed since the last call.
    void refresh(const CaseStore& store);
    void set_settings(const CalibrationSettings& settings);
    [[nodiscard]] const CalibrationSettings& settings() const { return settings_; }

    // The calibration at the current settings, or why there is none (too few cases, ...).
    [[nodiscard]] const Result<Calibration>& result();
    [[nodiscard]] const std::vector<LesionScores>& cases() const { return cases_; }
    // The calibration cases' profiles, in the same order, and the region their maps were
    // restricted to.
    [[nodiscard]] const std::vector<CaseProfile>& profiles() const { return profiles_; }
    [[nodiscard]] RegionOfInterest region() const { return region_; }
    // Each calibration case's FNR at the current threshold (0 for empty masks).
    [[nodiscard]] std::vector<double> fnr_at_threshold();
    // The certificate the CLI would write for the same files and settings.
    // `lesion`: how the cases' maps and labels were read, which the certificate records.
    [[nodiscard]] std::optional<Certificate> certificate(const CaseStore& store,
                                                         const LesionDefinition& lesion = {});

private:
    std::vector<LesionScores> cases_;
    std::vector<CaseProfile> profiles_;
    RegionOfInterest region_ = RegionOfInterest::none;
    std::uint64_t generation_ = ~std::uint64_t{0};
    CalibrationSettings settings_;
    std::optional<Result<Calibration>> result_;  // empty: recompute
    std::optional<CrcRiskCurve> crc_curve_;      // built on first use for a case set
};

}  // namespace cls::app
