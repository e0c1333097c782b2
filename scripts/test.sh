#!/usr/bin/env bash
# Sets up and runs every test: the core, io and CLI suites under ASan + UBSan (GoogleTest,
# numpy and nibabel reference checks, the CLI contract), then checks that the release build
# with its benchmark and the WebAssembly build of the core compile.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/build.sh native-debug
ctest --preset native-debug -j "$(nproc)"

scripts/build.sh native-release
scripts/build.sh wasm-release
echo "test.sh: all tests passed; release and wasm builds compile"
