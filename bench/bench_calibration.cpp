// Critical-threshold computation on a 256^3 float32 probability map, side by side with
// (a) a plain read of the same bytes, the ceiling for any one-pass method, and
// (b) a 100-threshold grid search over the same map, the way MAPIE-style tools find a
//     threshold (one pass per candidate, and only grid precision).
// All three report bytes/s over the probability map and its label; bench/compare.py turns
// one run into the ratio table of the README.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "cls/calibration.hpp"
#include "cls/random.hpp"

namespace {

constexpr std::int64_t kSide = 256;
constexpr double kEpsilon = 0.1;

struct Map {
    std::vector<float> probabilities;
    std::vector<float> labels;
};

// A smooth-ish map with three spherical lesions (about 1% of voxels), made once.
const Map& map_256() {
    static const Map map = [] {
        Map m;
        const std::size_t n = static_cast<std::size_t>(kSide * kSide * kSide);
        m.probabilities.resize(n);
        m.labels.resize(n);
        cls::Random rng(42);
        const double centres[3][3] = {{80, 90, 100}, {170, 150, 120}, {128, 60, 190}};
        const double radius = 26.0;
        for (std::int64_t z = 0; z < kSide; ++z)
            for (std::int64_t y = 0; y < kSide; ++y)
                for (std::int64_t x = 0; x < kSide; ++x) {
                    const std::size_t i = static_cast<std::size_t>(x + kSide * (y + kSide * z));
                    bool lesion = false;
                    for (const auto& c : centres) {
                        const double d = std::hypot(x - c[0], y - c[1], z - c[2]);
                        lesion = lesion || d < radius;
                    }
                    m.labels[i] = lesion ? 1.0f : 0.0f;
                    const double base = lesion ? 0.7 : 0.05;
                    m.probabilities[i] =
                        static_cast<float>(std::clamp(base + 0.2 * rng.normal(), 0.0, 1.0));
                }
        return m;
    }();
    return map;
}

void set_bytes(benchmark::State& state, const Map& m) {
    state.SetBytesProcessed(
        static_cast<std::int64_t>(state.iterations()) *
        static_cast<std::int64_t>((m.probabilities.size() + m.labels.size()) * sizeof(float)));
}

void BM_ReadBaseline(benchmark::State& state) {
    const Map& m = map_256();
    for (auto _ : state) {
        float sum = 0.0f;
        for (std::size_t i = 0; i < m.probabilities.size(); ++i)
            sum += m.probabilities[i] + m.labels[i];
        benchmark::DoNotOptimize(sum);
    }
    set_bytes(state, m);
}

void BM_CriticalThresholdExact(benchmark::State& state) {
    const Map& m = map_256();
    for (auto _ : state) {
        auto scores = cls::collect_lesion_scores("bench", m.probabilities, m.labels);
        benchmark::DoNotOptimize(
            cls::critical_threshold(scores->sorted_lesion_probabilities, kEpsilon));
    }
    set_bytes(state, m);
}

void BM_GridSearch100(benchmark::State& state) {
    const Map& m = map_256();
    for (auto _ : state) {
        double best = 0.0;
        for (int g = 0; g <= 99; ++g) {
            const float t = static_cast<float>(g) / 99.0f;
            std::size_t lesion = 0, missed = 0;
            for (std::size_t i = 0; i < m.probabilities.size(); ++i) {
                const bool is_lesion = m.labels[i] != 0.0f;
                lesion += is_lesion;
                missed += is_lesion && m.probabilities[i] < t;
            }
            if (static_cast<double>(missed) <= kEpsilon * static_cast<double>(lesion)) best = t;
        }
        benchmark::DoNotOptimize(best);
    }
    set_bytes(state, m);
}

}  // namespace

BENCHMARK(BM_ReadBaseline)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CriticalThresholdExact)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_GridSearch100)->Unit(benchmark::kMillisecond)->Iterations(3);

BENCHMARK_MAIN();
