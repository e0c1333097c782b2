#include <gtest/gtest.h>

#include <cmath>

#include "cls/metrics.hpp"
#include "cls/synth.hpp"

namespace cls {
namespace {

TEST(Synth, IsDeterministicPerSeedAndIndex) {
    const SynthCase a = synth_case({.size = 16, .seed = 3}, 5);
    const SynthCase b = synth_case({.size = 16, .seed = 3}, 5);
    const SynthCase c = synth_case({.size = 16, .seed = 4}, 5);
    EXPECT_EQ(a.name, "case_005");
    EXPECT_EQ(a.probability.values(), b.probability.values());
    EXPECT_EQ(a.label.values(), b.label.values());
    EXPECT_NE(a.probability.values(), c.probability.values());
}

TEST(Synth, ProducesValidMapsWithVariedQuality) {
    int empty = 0, missed_at_half = 0, found_at_half = 0;
    for (int i = 0; i < 40; ++i) {
        const SynthCase c = synth_case({.size = 24, .seed = 1}, i);
        ASSERT_EQ(c.probability.dims(), c.label.dims());
        for (float p : c.probability.values()) ASSERT_TRUE(p >= 0.0f && p <= 1.0f);
        for (float l : c.label.values()) ASSERT_TRUE(l == 0.0f || l == 1.0f);
        auto m = measure_case(c.name, c.probability, c.label, 0.5);
        ASSERT_TRUE(m);
        if (!m->has_lesion()) {
            ++empty;
        } else if (m->fnr > 0.5) {
            ++missed_at_half;
        } else {
            ++found_at_half;
        }
    }
    // What calibration is for: some empty masks, some cases the model misses at 0.5, some it finds.
    EXPECT_GT(empty, 0);
    EXPECT_GT(missed_at_half, 0);
    EXPECT_GT(found_at_half, 0);
}

}  // namespace
}  // namespace cls
