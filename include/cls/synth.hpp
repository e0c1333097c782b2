// Synthetic labelled cases for demos, tests and teaching: a smooth head-like image with
// blob lesions, its label, and the probability map of a simulated imperfect model whose
// quality varies per case (some cases have lesions it misses at 0.5, some have no lesion).
// Each case depends only on (seed, index), so cases can be generated one at a time and the
// set is identical for a seed on every platform (see cls/random.hpp).
#pragma once

#include <cstdint>
#include <string>

#include "cls/volume.hpp"

namespace cls {

struct SynthSettings {
    std::int64_t size = 48;  // cubic volumes of size^3 voxels
    std::uint64_t seed = 1;
};

struct SynthCase {
    std::string name;  // "case_000", ...
    Volume image;
    Volume label;        // 0 / 1
    Volume probability;  // in [0, 1]
};

[[nodiscard]] SynthCase synth_case(const SynthSettings& settings, int index);

}  // namespace cls
