// Evaluation over random splits at the size the issue asks for: 1,000 splits of 200 cases
// (32^3 voxels each, as the README's demo set), every split calibrating on 100 and measuring
// 100. The cases are reduced once (outside the timing); a split then costs binary searches.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <vector>

#include "cls/evaluation.hpp"
#include "cls/random.hpp"
#include "cls/report/paper_suite.hpp"

namespace {

constexpr std::size_t kVoxels = 32 * 32 * 32;

// Lesions of 0 to 2,000 voxels; every probability distinct, as a network's output is.
const cls::EvaluationSet& demo_set() {
    static const cls::EvaluationSet set = [] {
        cls::Random rng(2026);
        std::vector<cls::EvaluationCase> cases;
        for (int i = 0; i < 200; ++i) {
            const double quality = rng.uniform(0.3, 1.0);
            const std::size_t m = rng.uniform() < 0.15 ? 0 : 1 + rng.below(2000);
            std::vector<float> lesion(m), background(kVoxels - m), maxima;
            for (float& p : lesion) p = static_cast<float>(quality * rng.uniform());
            for (float& p : background) {
                const double u = rng.uniform();
                p = static_cast<float>(0.3 * u * u * u * u);
            }
            std::sort(lesion.begin(), lesion.end());
            std::sort(background.begin(), background.end());
            if (m > 0) maxima = {lesion.back()};
            cls::EvaluationCase c;
            c.lesion = {"case", kVoxels, std::move(lesion)};
            c.background = cls::SortedProbabilities(std::move(background));
            c.sorted_lesion_maxima = std::move(maxima);
            cases.push_back(std::move(c));
        }
        return *cls::EvaluationSet::create(std::move(cases), cls::EmptyMaskPolicy::satisfied);
    }();
    return set;
}

void run(benchmark::State& state, std::vector<cls::EvaluationMethod> methods) {
    const cls::EvaluationSet& set = demo_set();
    cls::EvaluationSettings settings;
    settings.methods = std::move(methods);
    settings.epsilon = 0.2;
    settings.alpha = 0.1;
    settings.splits = static_cast<std::size_t>(state.range(0));
    settings.mondrian = *cls::parse_mondrian_rule("lesion-voxels:1000");
    for (auto _ : state) {
        auto report = cls::evaluate(set, settings);
        benchmark::DoNotOptimize(report);
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));  // splits per second
}

void BM_EvaluateFixedClsCrc(benchmark::State& state) {
    run(state,
        {cls::EvaluationMethod::fixed, cls::EvaluationMethod::cls, cls::EvaluationMethod::crc});
}
BENCHMARK(BM_EvaluateFixedClsCrc)->Arg(1000)->Unit(benchmark::kMillisecond);

void BM_EvaluateAllSixMethods(benchmark::State& state) {
    run(state, {cls::EvaluationMethod::fixed, cls::EvaluationMethod::cls,
                cls::EvaluationMethod::crc, cls::EvaluationMethod::lesion_cls,
                cls::EvaluationMethod::pac, cls::EvaluationMethod::mondrian});
}
BENCHMARK(BM_EvaluateAllSixMethods)->Arg(1000)->Unit(benchmark::kMillisecond);

// The 134 evaluations of the paper suite at 100 splits each, tables and charts included.
void BM_PaperSuite(benchmark::State& state) {
    cls::report::PaperSuiteSettings settings;
    settings.splits = 100;
    for (auto _ : state) {
        auto files = cls::report::paper_suite(demo_set(), settings);
        benchmark::DoNotOptimize(files);
    }
}
BENCHMARK(BM_PaperSuite)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
