#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and builds one CMake preset: native-release (default),
# native-debug (ASan + UBSan) or wasm-release; all its targets, or those named after it.
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-native-release}"
targets=("${@:2}")

scripts/setup.sh
# Debian's emscripten links at -O1+ only when Node finds Debian's own modules (acorn).
export NODE_PATH=/usr/share/nodejs
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$(nproc)" ${targets[@]+--target "${targets[@]}"}
