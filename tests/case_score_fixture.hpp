// Case scores as `cls score --roi nonzero --image` writes them, made from synthetic cases, for
// the session and app tests that load calibration sets as scores.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cls/case_score.hpp"
#include "cls/evaluation_case.hpp"
#include "cls/exchangeability.hpp"
#include "cls/region_of_interest.hpp"
#include "cls/sha256.hpp"
#include "cls/synth.hpp"

namespace cls::testing {

// A stand-in for a file's SHA-256: the hash of `text`.
inline std::string hash_of(const std::string& text) {
    return sha256_hex({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
}

// The score of `c`, its map restricted to its image's non-zero voxels, recorded as made with
// `region`; its inputs' hashes are hash_of("p" + name) and hash_of("l" + name).
inline std::vector<std::uint8_t> score_bytes(const SynthCase& c, RegionOfInterest region) {
    Volume restricted = c.probability;
    EXPECT_TRUE(restrict_to_region(restricted, c.image, "its region"));
    CaseScore score{.scores = *collect_evaluation_case(c.name, restricted, c.label),
                    .inputs = {hash_of("p" + c.name), hash_of("l" + c.name)},
                    .lesion = {},
                    .tool_version = "test",
                    .region = region,
                    .profile = profile_case(restricted, &c.image, &c.image)};
    return encode_case_score(score);
}

}  // namespace cls::testing
