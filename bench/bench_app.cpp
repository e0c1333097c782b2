// The app's per-frame work, measured: redrawing one 512x512 view with every overlay, and
// re-calibrating 1,000 cases when a slider moves. Both must fit well inside a 16 ms frame.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <vector>

#include "cls/calibration.hpp"
#include "cls/random.hpp"
#include "slice_render.hpp"

namespace {

using namespace cls;

struct Layers {
    Volume image, probability, label;
};

// 512 x 512 x 8 of noise with a lesion-like disc in the middle.
const Layers& layers_512() {
    static const Layers layers = [] {
        const Dims dims{512, 512, 8};
        Layers l{Volume(dims, Affine::Identity()), Volume(dims, Affine::Identity()),
                 Volume(dims, Affine::Identity())};
        Random rng(1);
        for (std::int64_t z = 0; z < 8; ++z)
            for (std::int64_t y = 0; y < 512; ++y)
                for (std::int64_t x = 0; x < 512; ++x) {
                    const bool lesion = (x - 256) * (x - 256) + (y - 256) * (y - 256) < 40 * 40;
                    l.image.at(x, y, z) =
                        static_cast<float>(100 + 20 * rng.normal() + (lesion ? 60 : 0));
                    l.label.at(x, y, z) = lesion ? 1.0f : 0.0f;
                    l.probability.at(x, y, z) = static_cast<float>(
                        std::clamp((lesion ? 0.7 : 0.05) + 0.2 * rng.normal(), 0.0, 1.0));
                }
        return l;
    }();
    return layers;
}

void BM_RedrawView512(benchmark::State& state) {
    const Layers& l = layers_512();
    const app::SliceGeometry geometry(l.image, app::View::axial, true);
    app::OverlaySettings overlays;
    overlays.window_center = 100;
    overlays.window_width = 200;
    overlays.fixed_mask = true;
    overlays.tau = 0.2;
    app::SliceImage out;
    for (auto _ : state) {
        app::render_slice({&l.image, &l.probability, &l.label}, geometry, 4, overlays, out);
        benchmark::DoNotOptimize(out.pixels.data());
    }
}

// 1,000 cases of 200 to 2,200 lesion voxels.
std::vector<LesionScores> thousand_cases() {
    Random rng(2);
    std::vector<LesionScores> cases(1000);
    for (LesionScores& c : cases) {
        c.sorted_lesion_probabilities.resize(200 + rng.below(2000));
        for (float& p : c.sorted_lesion_probabilities) p = static_cast<float>(rng.uniform());
        std::sort(c.sorted_lesion_probabilities.begin(), c.sorted_lesion_probabilities.end());
    }
    return cases;
}

void BM_Recalibrate1000Cases(benchmark::State& state) {
    const std::vector<LesionScores> cases = thousand_cases();
    const Method method = state.range(0) == 0 ? Method::cls : Method::crc;
    // As the app's calibration session does: CRC's risk curve is built once per case set.
    const CrcRiskCurve curve(cases);
    double epsilon = 0.1;
    for (auto _ : state) {
        epsilon = epsilon >= 0.3 ? 0.1 : epsilon + 0.001;  // a slider being dragged
        auto result =
            calibrate(cases, {.method = method, .epsilon = epsilon, .alpha = 0.1}, &curve);
        benchmark::DoNotOptimize(result->threshold);
    }
    state.SetLabel(method == Method::cls ? "cls" : "crc");
}

}  // namespace

BENCHMARK(BM_RedrawView512)->Unit(benchmark::kMillisecond);
// Building CRC's curve, once per case set (on loading, not on a slider move).
void BM_CrcCurve1000Cases(benchmark::State& state) {
    const std::vector<LesionScores> cases = thousand_cases();
    for (auto _ : state) benchmark::DoNotOptimize(CrcRiskCurve(cases));
}

BENCHMARK(BM_Recalibrate1000Cases)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CrcCurve1000Cases)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
