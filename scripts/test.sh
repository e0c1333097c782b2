#!/usr/bin/env bash
# Sets up and runs every test:
#   1. the core, io, app and CLI suites natively under ASan + UBSan (GoogleTest, numpy and
#      nibabel reference checks, the headless ImGui smoke test, the CLI contract);
#   2. the core and app suites compiled to WebAssembly, under Node;
#   3. the browser app end to end in headless Chromium;
# then checks that the release build with its benchmark compiles.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/build.sh native-debug
ctest --preset native-debug -j "$(nproc)"

scripts/build.sh wasm-test
ctest --preset wasm-test -j "$(nproc)"

# With open_ms beside the repository, the real-anatomy demo is built too: 6 calibration cases
# here (about 2 minutes of inference), where scripts/start.sh makes 20.
CASES=6 scripts/build_web.sh
node --test tests/web/

scripts/build.sh native-release
echo "test.sh: all tests passed; the release build compiles"
