// libFuzzer target for the case score reader (cls::parse_case_score and the partial reads of
// cls::case_score_bytes_needed), the binary files `cls score` writes and `cls calibrate
// --scores` and `cls evaluate --scores` read, possibly from another machine.
#include <cstddef>
#include <cstdint>
#include <span>

#include "cls/case_score.hpp"

namespace {

// Sections are compressed, so a tiny input may declare many voxels; this keeps what it may
// decode within libFuzzer's memory limit (scripts/fuzz.sh) while every check still runs.
constexpr std::uint64_t kMaxVoxels = std::uint64_t{1} << 22;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using cls::ScoreParts;
    const std::span<const std::uint8_t> bytes(data, size);
    const auto whole = cls::parse_case_score(bytes, size, ScoreParts::evaluation, kMaxVoxels);

    // The partial read the CLI makes for calibration: at most three rounds, never past the end.
    std::size_t have = 0;
    bool refused = false;
    for (int round = 0;; ++round) {
        const auto needed = cls::case_score_bytes_needed(bytes.first(have), size,
                                                         ScoreParts::calibration, kMaxVoxels);
        if (!needed) {
            refused = true;
            break;
        }
        if (*needed <= have) break;
        if (*needed > size || round == 3) __builtin_trap();
        have = *needed;
    }
    const auto lesion =
        refused
            ? cls::parse_case_score(bytes, size, ScoreParts::calibration, kMaxVoxels)
            : cls::parse_case_score(bytes.first(have), size, ScoreParts::calibration, kMaxVoxels);
    if (refused && lesion) __builtin_trap();  // the partial read refused what the parser took

    if (whole) {
        // A whole file that reads reads for calibration too, with the same lesion section.
        if (!lesion || lesion->scores.lesion.sorted_lesion_probabilities !=
                           whole->scores.lesion.sorted_lesion_probabilities) {
            __builtin_trap();
        }
        // What parses must encode and read back to the same canonical bytes.
        const auto encoded = cls::encode_case_score(*whole);
        const auto again = cls::parse_case_score(encoded);
        if (!again || cls::encode_case_score(*again) != encoded) __builtin_trap();
    }
    return 0;
}
