#!/usr/bin/env bash
# Builds the browser app into build/web/: the page (web/), the wasm module, and a demo set of
# synthetic labelled cases made by the project's own `cls synth` (never committed).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/build.sh native-release cls
scripts/build.sh wasm-release cls_studio

out=build/web
rm -rf "$out"
mkdir -p "$out"
cp web/index.html web/cls_bridge.js "$out/"
cp build/wasm/wasm/cls_studio.js build/wasm/wasm/cls_studio.wasm "$out/"

build/native/cls synth --cases 24 --size 48 --seed 7 --out "$out/demo" 2>/dev/null
# The demo's file list, so the page can fetch it without a directory listing.
(cd "$out/demo" && printf '{"files": [%s]}\n' \
  "$(find images labels probs -name '*.nii.gz' | sort | sed 's/.*/"&"/' | paste -sd, -)") \
  > "$out/demo/manifest.json"
echo "build_web: app in $out" >&2
