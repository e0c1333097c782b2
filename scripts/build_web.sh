#!/usr/bin/env bash
# Builds the browser app into build/web/: the page (web/), the wasm module, ONNX Runtime Web and
# dcm2niix (from node_modules, served from our own origin), the bundled model, and two demo sets
# made by the project's own `cls synth` (never committed): scans with labels for the model to
# segment, and the teaching set's probability maps.
# With CLS_SERVE_ONLY=1 (scripts/start.sh) it sets up and builds only what the page needs: `cls`
# from the native-cli preset (no test or benchmark libraries to install) and the app's wasm,
# not Node's cls_infer; the page it assembles is the same.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -n ${CLS_SERVE_ONLY:-} ]]; then
  scripts/build.sh native-cli cls
  cls=build/native-cli/cls
  scripts/build.sh wasm-release cls_studio
else
  scripts/build.sh native-release cls
  cls=build/native/cls
  scripts/build.sh wasm-release cls_studio cls_infer
fi

out=build/web
rm -rf "$out"
mkdir -p "$out/ort" "$out/models" "$out/dcm2niix"
cp web/index.html web/cls_bridge.js web/dicom.js web/inference_worker.js web/model_runner.js web/npz.js web/storage.js web/sw.js web/test_api.js "$out/"
cp build/wasm/wasm/cls_studio.js build/wasm/wasm/cls_studio.wasm "$out/"
# ort.min.mjs runs WebGPU (and wasm) through its JSEP build; ort.wasm.min.mjs runs wasm alone
# on the plain build, 2-2.6 times faster without JSEP's Asyncify (web/inference_worker.js).
ort=node_modules/onnxruntime-web/dist
cp "$ort/ort.min.mjs" "$ort/ort-wasm-simd-threaded.jsep.mjs" "$ort/ort-wasm-simd-threaded.jsep.wasm" \
   "$ort/ort.wasm.min.mjs" "$ort/ort-wasm-simd-threaded.mjs" "$ort/ort-wasm-simd-threaded.wasm" "$out/ort/"
# dcm2niix for DICOM folders (web/dicom.js): the package's module worker, its Emscripten glue and
# wasm, served from our origin. The jpeg build (the package's default) also reads JPEG-LS and
# JPEG 2000 slices.
dcm=node_modules/@niivue/dcm2niix/dist
cp "$dcm/worker.jpeg.js" "$dcm/dcm2niix.jpeg.js" "$dcm/dcm2niix.jpeg.wasm" "$out/dcm2niix/"
cp models/cls_unet.onnx models/cls_unet.json "$out/models/"

# The file list of a demo, so the page can fetch it without a directory listing.
list_files() {
  printf '{"files": [%s]}\n' "$(sed 's/.*/"&"/' | paste -sd, -)"
}

# Scans: 24 labelled calibration cases and 4 new, unlabelled ones, all 48^3 (seed 7; the model
# never saw them), plus the bundled model: Load demo runs inference, then calibration.
"$cls" synth --kind scans --cases 28 --size 48 --seed 7 --out "$out/demo" 2>/dev/null
for i in 024 025 026 027; do rm "$out/demo/labels/case_$i.nii.gz"; done
(cd "$out" && { find demo/images demo/labels -name '*.nii.gz' | sort;
                echo models/cls_unet.json; echo models/cls_unet.onnx; } | list_files) \
  > "$out/demo/manifest.json"

# Real anatomy, when open_ms is here (CLS_OPEN_MS): Load demo then calibrates on generated
# cases' scores and segments three real patients; without it, on the synthetic scans above.
CLS="$cls" scripts/build_ms_demo.sh "$out/demo_ms" || [[ $? == 3 ]]

# The teaching set: a simulated model's probability maps with labels (no inference needed).
"$cls" synth --cases 24 --size 48 --seed 7 --out "$out/demo_probs" 2>/dev/null
(cd "$out" && find demo_probs/images demo_probs/labels demo_probs/probs -name '*.nii.gz' | sort |
  list_files) > "$out/demo_probs/manifest.json"
# What the service worker caches for offline use: everything built here.
# The real-anatomy demo (tens of MB) is fetched when asked for, not on the first visit.
(cd "$out" && find . -type f ! -name sw.js ! -name precache.json ! -path './demo_ms/*' |
  sed 's|^\./||' | sort |
  list_files) > "$out/precache.json"
echo "build_web: app in $out" >&2
