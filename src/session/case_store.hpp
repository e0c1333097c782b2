// The cases loaded in the app: images, labels and probability maps paired by case name, with
// what calibration keeps of each labelled case computed once on arrival. A file that does not
// fit (unknown role, shape or affine unlike its case's other files, a second file for the same
// role) is refused with a message naming it, and everything already loaded stays.
// Each case has a CaseId that is never reused, so whoever shows or runs a case holds its id and
// looks it up when needed: the store's vector moves as cases arrive, and a case cleared and
// loaded again is another case.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cls/calibration.hpp"
#include "cls/case_pairing.hpp"
#include "cls/result.hpp"
#include "cls/volume.hpp"

namespace cls::app {

// Roles and the naming rule are the core's (cls/case_pairing.hpp), shared with the CLI.
using Role = FileRole;
inline constexpr std::array<Role, 3> kRoles = kFileRoles;
using cls::role_name;

// The role a file plays: from its path first, by the core's rule (name_file: BIDS suffixes,
// role suffixes, role folders, an nnU-Net channel); when the path says nothing, from content:
// an all-0/1 volume is a label, values in [0, 1] a probability map, anything else an image.
[[nodiscard]] Role guess_role(std::string_view path, const Volume& volume);
// The case a file belongs to, by the core's rule: name_file(path).case_name.
[[nodiscard]] std::string case_name_of(std::string_view path);

// A case's stable handle; 0 is "no case".
using CaseId = std::uint64_t;

struct LoadedCase {
    CaseId id = 0;
    std::uint64_t revision = 0;  // changes whenever one of its files arrives
    std::string name;
    std::array<std::optional<Volume>, 3> volumes;  // by Role
    std::array<std::string, 3> files;              // paths as given, by Role
    std::array<std::string, 3> sha256;             // of the bytes as stored (compressed or not)
    std::optional<LesionScores> scores;            // once label and probability are both here

    [[nodiscard]] const Volume* volume(Role role) const {
        const auto& v = volumes[static_cast<int>(role)];
        return v ? &*v : nullptr;
    }
    [[nodiscard]] bool labelled() const { return scores.has_value(); }
};

class CaseStore {
public:
    // Adds one parsed file. Returns the case name, or an error naming `path`.
    Result<std::string> add(const std::string& path, Role role, Volume volume, std::string sha256);
    void clear() {
        cases_.clear();
        ++generation_;
    }
    // Changes whenever the set of cases or their files change.
    [[nodiscard]] std::uint64_t generation() const { return generation_; }

    [[nodiscard]] const std::vector<LoadedCase>& cases() const { return cases_; }
    [[nodiscard]] const LoadedCase* find(std::string_view name) const;
    // Null once the case is gone (cleared), or for an id it never had.
    [[nodiscard]] const LoadedCase* find(CaseId id) const;
    // The labelled cases' scores, in case-name order: the calibration set.
    [[nodiscard]] std::vector<LesionScores> calibration_scores() const;
    [[nodiscard]] std::size_t labelled_count() const;

private:
    std::vector<LoadedCase> cases_;  // sorted by name
    std::uint64_t generation_ = 0;
    CaseId last_id_ = 0;
};

}  // namespace cls::app
