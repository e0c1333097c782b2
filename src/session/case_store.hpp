// The cases loaded in the app: images, labels and probability maps paired by case name, with
// what calibration keeps of each labelled case computed once on arrival. A file that does not
// fit (unknown role, shape or affine unlike its case's other files, a second file for the same
// role) is refused with a message naming it, and everything already loaded stays.
// The store also applies the region of interest (cls/region_of_interest.hpp), the same rule as
// the CLI: each case's calibration scores and profile are computed on its map restricted to the
// region, from its image (nonzero) or region mask (mask); a case without that file has neither
// and is left out of calibration, which region_missing_count() says.
// A case may bring several images, one per modality (nnU-Net's "_0000", "_0001"; BIDS
// suffixes, "sub-01_FLAIR"), for models of several input channels: the first one is its image
// (what the viewer shows), the others its further channels, on the same grid.
// A case may also come as its score (`cls score`): what calibration keeps of it, made on a
// map restricted to a region, without its volumes, so a calibration set of hundreds of cases
// loads in megabytes. It calibrates while the store's region is the one it was scored with.
// A labelled case calibrates unless the user sets it aside as a new case: then it is checked
// against the calibration like any new case, and its label only says how the mask did. The
// choice is by case name and may come before the case's files (the demo's real patients).
// Each case has a CaseId that is never reused, so whoever shows or runs a case holds its id and
// looks it up when needed: the store's vector moves as cases arrive, and a case cleared and
// loaded again is another case.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cls/calibration.hpp"
#include "cls/case_pairing.hpp"
#include "cls/certificate.hpp"
#include "cls/exchangeability.hpp"
#include "cls/region_of_interest.hpp"
#include "cls/result.hpp"
#include "cls/volume.hpp"

namespace cls::app {

// Roles and the naming rule are the core's (cls/case_pairing.hpp), shared with the CLI.
using Role = FileRole;
inline constexpr std::array<Role, kFileRoles.size()> kRoles = kFileRoles;
using cls::role_name;

// The role a file plays: from its path first, by the core's rule (name_file: BIDS suffixes,
// role suffixes, role folders, an nnU-Net channel); when the path says nothing, from content:
// an all-0/1 volume is a label, values in [0, 1] a probability map, anything else an image.
[[nodiscard]] Role guess_role(std::string_view path, const Volume& volume);
// The case a file belongs to, by the core's rule: name_file(path).case_name.
[[nodiscard]] std::string case_name_of(std::string_view path);

// A case's stable handle; 0 is "no case".
using CaseId = std::uint64_t;

// An image beyond a case's first: another modality of the same case.
struct ChannelImage {
    std::string file;
    std::string sha256;
    Volume volume;
};

// A case given as its score file.
struct ScoredCase {
    std::string file;
    std::string sha256;       // of the score file
    InputHashes inputs;       // of the map and label it was made from, for the certificate
    RegionOfInterest region;  // its map was restricted to before scoring
    LesionScores scores;
    std::optional<CaseProfile> profile;  // none in version 1 scores
};

struct LoadedCase {
    CaseId id = 0;
    std::uint64_t revision = 0;  // changes whenever one of its files arrives
    std::string name;
    std::array<std::optional<Volume>, kRoles.size()> volumes;  // by Role
    std::array<std::string, kRoles.size()> files;              // paths as given, by Role
    std::array<std::string, kRoles.size()> sha256;  // of the bytes as stored (compressed or not)
    // On the map restricted to the region, once the map (and the region's file) is here:
    std::optional<LesionScores> scores;     // with a label too: what calibration keeps
    std::optional<CaseProfile> profile;     // what the exchangeability check compares
    std::string region_problem;             // why the region could not be applied, if it could not
    std::vector<ChannelImage> more_images;  // other modalities than the image's, as they came
    std::optional<ScoredCase> scored;       // a case given as its score: no volumes

    [[nodiscard]] const Volume* volume(Role role) const {
        const auto& v = volumes[static_cast<int>(role)];
        return v ? &*v : nullptr;
    }
    bool set_aside = false;  // set aside by the user: a new case, not calibration, whatever it has
    [[nodiscard]] bool labelled() const { return scores.has_value(); }
    // In the calibration set: labelled, and not set aside.
    [[nodiscard]] bool calibrates() const { return labelled() && !set_aside; }
    // The region's volume under `region`: null for none, or when the file is missing.
    [[nodiscard]] const Volume* region_volume(RegionOfInterest region) const {
        const auto source = region_source(region);
        return source ? volume(*source) : nullptr;
    }
};

class CaseStore {
public:
    // Adds one parsed file. Returns the case name, or an error naming `path`.
    Result<std::string> add(const std::string& path, Role role, Volume volume, std::string sha256);
    // Adds a case given as its score. Returns the case name, or an error naming the file (a
    // case is given by its score or by its volumes, not both).
    Result<std::string> add_scored(ScoredCase scored);
    // Whether any case came as a score.
    [[nodiscard]] bool has_scored_cases() const;
    void clear() {
        cases_.clear();
        set_aside_.clear();
        ++generation_;
    }
    // Removes one case, and the set-aside choice made for its name.
    void remove(CaseId id);
    // Sets the case `name` aside as a new case (or back into calibration), now or on arrival.
    void set_aside(std::string_view name, bool aside);
    // Changes whenever the set of cases or their files change.
    [[nodiscard]] std::uint64_t generation() const { return generation_; }

    [[nodiscard]] const std::vector<LoadedCase>& cases() const { return cases_; }
    [[nodiscard]] const LoadedCase* find(std::string_view name) const;
    // Null once the case is gone (cleared or removed), or for an id it never had.
    [[nodiscard]] const LoadedCase* find(CaseId id) const;
    // The calibrating cases' scores, in case-name order: the calibration set.
    [[nodiscard]] std::vector<LesionScores> calibration_scores() const;
    // Their profiles, in the same order; none when one of them has no profile.
    [[nodiscard]] std::vector<CaseProfile> calibration_profiles() const;
    [[nodiscard]] std::size_t calibrating_count() const;
    // Cases with a label and a map, or a score, that the region leaves out of calibration (its
    // file missing or empty, or a score made with another region).
    [[nodiscard]] std::size_t region_missing_count() const;

    // Restricts every case's map to `region` from now on; scores and profiles are recomputed.
    void set_region(RegionOfInterest region);
    [[nodiscard]] RegionOfInterest region() const { return region_; }
    // A case's map as calibration reads it: its own map without a region (no copy: a map can
    // be hundreds of MB in a 4 GB heap), else a copy restricted to the region, held in
    // `scratch`. Null without a map, or when the region's file is missing or empty.
    [[nodiscard]] const Volume* calibration_map(const LoadedCase& c,
                                                std::optional<Volume>& scratch) const;

private:
    // calibration_map, or why there is none.
    [[nodiscard]] Result<const Volume*> map_for_calibration(const LoadedCase& c,
                                                            std::optional<Volume>& scratch) const;
    // Where the case `name` is, or would go, in the name order.
    [[nodiscard]] std::vector<LoadedCase>::iterator slot_of(const std::string& name);
    // A new case `name` at `slot`, with a fresh id and the set-aside choice made for its name.
    std::vector<LoadedCase>::iterator insert_case(std::vector<LoadedCase>::iterator slot,
                                                  const std::string& name);
    // Scores, profile and region_problem from the case's files and the region.
    void derive(LoadedCase& c) const;

    std::vector<LoadedCase> cases_;                 // sorted by name
    std::set<std::string, std::less<>> set_aside_;  // by name, loaded or still to come
    RegionOfInterest region_ = RegionOfInterest::none;
    std::uint64_t generation_ = 0;
    CaseId last_id_ = 0;
};

}  // namespace cls::app
