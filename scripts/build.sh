#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and builds one CMake preset: native-release (default),
# native-debug (ASan + UBSan), native-cli, wasm-release or wasm-test; all its targets, or those
# named after it. With CLS_SERVE_ONLY=1 (scripts/start.sh) it sets up only what serving the
# app needs (`scripts/setup.sh serve`).
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-native-release}"
targets=("${@:2}")

scripts/setup.sh ${CLS_SERVE_ONLY:+serve}
# Debian's emscripten links at -O1+ only when Node finds Debian's own modules (acorn).
export NODE_PATH=/usr/share/nodejs
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$(nproc)" ${targets[@]+--target "${targets[@]}"}
