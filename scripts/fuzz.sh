#!/usr/bin/env bash
# Runs every libFuzzer target (tests/fuzzing/), or those named, for a given time each, with
# ASan and UBSan:
#   scripts/fuzz.sh [seconds-per-target [target...]]    (default 60, every target)
# Sets up, configures and builds the native-fuzz preset (clang), then fuzzes each target on a
# working copy of its committed seed corpus (build/fuzz/corpus-work/<target>, kept between
# runs). Prints the executions per target and every crash, leak, timeout or out-of-memory
# input; exits non-zero on any finding. Keep a finding's input as a regression:
# tests/fuzzing/regressions/<target>/ (the replay tests in ctest run it).
# Not part of scripts/test.sh: CI has no time for it.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
targets=("${@:2}")
((${#targets[@]})) || targets=(fuzz_nifti fuzz_nifti_gz fuzz_certificate fuzz_model_manifest fuzz_onnx_model
                                fuzz_npy fuzz_npz fuzz_case_score)

scripts/setup.sh
cmake --preset native-fuzz >/dev/null
cmake --build --preset native-fuzz -j "$(nproc)"

# Largest input per target: headers with a few voxels; compressed streams a little larger so
# that gzip bombs stay in reach; certificates with a handful of cases.
declare -A max_len=([fuzz_nifti]=4096 [fuzz_nifti_gz]=8192 [fuzz_certificate]=4096
                   [fuzz_model_manifest]=4096 [fuzz_onnx_model]=4096 [fuzz_npy]=4096
                   [fuzz_npz]=8192 [fuzz_case_score]=8192)

work=build/fuzz/corpus-work
findings=0
total=0
for target in "${targets[@]}"; do
  corpus="$work/$target"
  artifacts="$work/$target-findings/"
  mkdir -p "$corpus" "$artifacts"
  cp -n tests/fuzzing/corpus/"$target"/* "$corpus"/
  if [[ -d tests/fuzzing/regressions/$target ]]; then
    cp -n tests/fuzzing/regressions/"$target"/* "$corpus"/ 2>/dev/null || true
  fi
  log="$work/$target.log"
  echo "fuzz: $target for ${seconds}s (log: $log)"
  status=0
  build/fuzz/tests/fuzzing/"$target" "$corpus" -max_total_time="$seconds" \
    -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 -max_len="${max_len[$target]}" \
    -print_final_stats=1 -artifact_prefix="$artifacts" >"$log" 2>&1 || status=$?
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  total=$((total + ${executions:-0}))
  echo "fuzz: $target: ${executions:-?} executions, exit status $status"
  shopt -s nullglob
  found=("$artifacts"*)
  shopt -u nullglob
  if ((status != 0 || ${#found[@]})); then
    findings=$((findings + 1))
    echo "fuzz: $target FOUND A PROBLEM; inputs: ${found[*]:-none}; log tail:"
    tail -n 30 "$log"
  fi
done
echo "fuzz: $total executions in all, $findings target(s) with findings"
((findings == 0))
