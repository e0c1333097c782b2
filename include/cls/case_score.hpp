// A case score: one labelled case reduced to what calibration and evaluation read of it, so a
// cohort can be scored case by case on many machines (the map) and calibrated from the scores
// alone (the reduce) with the same certificate, byte for byte, as from the volumes.
// A score holds the case's name, the SHA-256 of its probability map and label files, what was
// read as lesion in them (the LesionDefinition), the voxel count, and three sorted sections:
// the lesion voxels' probabilities (all calibration needs), each ground-truth lesion's largest
// probability and the background voxels' probabilities (what evaluation needs besides: FPR,
// Dice, compactness, predicted volumes and lesion-level metrics, exactly as from the volumes).
// Layout (docs/case_score.md): an 8-byte magic, the JSON header's length (uint32 LE), the JSON
// header, then the sections back to back, each with its byte count, value count and SHA-256
// in the header; values in the canonical sorted-float32-delta-varint form.
// [X] format_version 2: the region of interest the map was restricted to and the case's
//     profile (cls/exchangeability.hpp) in the header; version 1 files read as made without
//     a region, with no profile
// [X] calibration reads the header and the lesion section only
// [X] every field, size, count and section hash checked; errors say what is wrong
// [ ] sections for other losses (e.g. boundary distances) would need format_version 2
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cls/certificate.hpp"
#include "cls/evaluation_case.hpp"
#include "cls/exchangeability.hpp"
#include "cls/lesion_definition.hpp"
#include "cls/region_of_interest.hpp"
#include "cls/result.hpp"

namespace cls {

inline constexpr int kCaseScoreFormatVersion = 2;
inline constexpr std::string_view kCaseScoreExtension = ".score";
// A file named like a case score: "<something>.score".
[[nodiscard]] inline bool is_case_score_name(std::string_view file_name) {
    return file_name.size() > kCaseScoreExtension.size() &&
           file_name.ends_with(kCaseScoreExtension);
}
// The fixed start of every score file: the magic, then the header's length.
inline constexpr std::size_t kCaseScorePreambleBytes = 12;
// Larger headers are refused unread; a real one is a few hundred bytes.
inline constexpr std::size_t kMaxCaseScoreHeaderBytes = std::size_t{1} << 20;
// Sections are compressed, so their byte counts do not bound what they decode to; the voxel
// count does, and is refused beyond this (a 1600^3 volume; in 32-bit WebAssembly, what its
// memory could hold as floats) before anything is decoded.
inline constexpr std::uint64_t kMaxCaseScoreVoxels = std::min<std::uint64_t>(
    std::uint64_t{1} << 32, std::numeric_limits<std::size_t>::max() / sizeof(float));

struct CaseScore {
    EvaluationCase scores;  // name, voxel count and the sorted sections
    InputHashes inputs;     // of the probability map and label files, as the certificate records
    LesionDefinition lesion;
    std::string tool_version;                          // of the cls that wrote it
    RegionOfInterest region = RegionOfInterest::none;  // applied to the map before scoring
    std::optional<CaseProfile> profile;                // none in version 1 files
};

// What a reader decodes: calibration needs the lesion probabilities only; evaluation needs
// the background and the lesion maxima as well.
enum class ScoreParts { calibration, evaluation };

// The score file's bytes (canonical: equal scores give equal bytes).
[[nodiscard]] std::vector<std::uint8_t> encode_case_score(const CaseScore& score);

// How many leading bytes of a score file of `file_bytes` bytes the reader needs for `parts`,
// given its first bytes `head` (any number). While the answer exceeds head.size(), read that
// many and ask again (at most three rounds: the preamble, the header, the sections). Refuses a
// file that is not a score, a truncated one, and a header that is malformed or of another
// format_version. Errors name no file: callers add it.
[[nodiscard]] Result<std::size_t> case_score_bytes_needed(
    std::span<const std::uint8_t> head, std::uint64_t file_bytes, ScoreParts parts,
    std::uint64_t max_voxels = kMaxCaseScoreVoxels);

// Parses a score from the first `case_score_bytes_needed` bytes (or more) of a file of
// `file_bytes` bytes, checking the SHA-256 of each section it decodes. With
// ScoreParts::calibration the background and lesion maxima stay empty.
[[nodiscard]] Result<CaseScore> parse_case_score(std::span<const std::uint8_t> prefix,
                                                 std::uint64_t file_bytes, ScoreParts parts,
                                                 std::uint64_t max_voxels = kMaxCaseScoreVoxels);
// The same on a whole file.
[[nodiscard]] inline Result<CaseScore> parse_case_score(std::span<const std::uint8_t> file,
                                                        ScoreParts parts = ScoreParts::evaluation) {
    return parse_case_score(file, file.size(), parts);
}

}  // namespace cls
