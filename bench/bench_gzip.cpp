// Inflating a 256^3 float32 .nii.gz (the core's synthetic probability map, 64 MiB, written as
// `cls` writes it: zlib level 6), side by side:
// (a) zlib, streamed in growing chunks: how every .nii.gz was read before libdeflate
//     (cls::io::gunzip_prefix still inflates this way, for headers);
// (b) cls::io::gunzip: libdeflate, in one call into a buffer of the size the header declares.
// Both report bytes/s of output; bench/cli_bench.py prints the ratio from one run.
#include <benchmark/benchmark.h>

#include <limits>

#include "cls/io/gzip.hpp"
#include "cls/nifti.hpp"
#include "cls/synth.hpp"

namespace {

const std::vector<std::uint8_t>& compressed_map() {
    static const std::vector<std::uint8_t> bytes = [] {
        const cls::SynthCase c = cls::synth_case({.size = 256, .seed = 3}, 0);
        return cls::io::gzip(
            cls::nifti::write(c.probability, {.datatype = cls::nifti::DataType::float32}));
    }();
    return bytes;
}

void BM_InflateZlib(benchmark::State& state) {
    const auto& bytes = compressed_map();
    std::size_t out = 0;
    for (auto _ : state) {
        auto inflated = cls::io::gunzip_prefix(bytes, std::numeric_limits<std::size_t>::max());
        out = inflated->size();
        benchmark::DoNotOptimize(inflated->data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * out));
}

void BM_InflateLibdeflate(benchmark::State& state) {
    const auto& bytes = compressed_map();
    const std::size_t expected = 352 + (std::size_t{256} * 256 * 256 * 4);
    std::size_t out = 0;
    for (auto _ : state) {
        auto inflated = cls::io::gunzip(bytes, expected);
        out = inflated->size();
        benchmark::DoNotOptimize(inflated->data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * out));
}

BENCHMARK(BM_InflateZlib)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_InflateLibdeflate)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
