"""Runs the calibration benchmark once and prints the README's comparison table.

Usage: /usr/bin/python3 bench/compare.py build/native/bench/cls_bench

The three rows come from one run on the same map, so their ratios hold on a noisy machine
where the absolute figures do not.
"""
import json
import subprocess
import sys


def main(binary):
    out = subprocess.run([binary, "--benchmark_format=json", "--benchmark_repetitions=3",
                          "--benchmark_report_aggregates_only=true"],
                         capture_output=True, text=True, check=True).stdout
    rows = {b["run_name"]: b for b in json.loads(out)["benchmarks"] if b["aggregate_name"] == "median"}
    read = rows["BM_ReadBaseline"]
    exact = rows["BM_CriticalThresholdExact"]
    grid = next(b for name, b in rows.items() if name.startswith("BM_GridSearch100"))
    gbps = lambda b: b["bytes_per_second"] / 1e9
    ms = lambda b: b["real_time"]  # the benchmarks report milliseconds
    print("256^3 float32 probability map + label (128 MiB), median of 3 repetitions")
    print(f"{'method':<42} {'ms':>9} {'GB/s':>7} {'vs read':>8}")
    for label, b in (("memory read baseline (sum of both arrays)", read),
                     ("exact critical threshold (cls)", exact),
                     ("100-threshold grid search", grid)):
        print(f"{label:<42} {ms(b):9.1f} {gbps(b):7.2f} {gbps(b) / gbps(read):8.1%}")
    print(f"exact vs grid search: {ms(grid) / ms(exact):.0f}x faster")


if __name__ == "__main__":
    main(sys.argv[1])
