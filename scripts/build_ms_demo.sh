#!/usr/bin/env bash
# The real-anatomy demo, from open_ms (Lesjak et al., Neuroinformatics 2017, CC-BY; cite it
# wherever the demo is shown): calibration case scores made from generated cases, and three
# real patients to segment as new cases. Usage: scripts/build_ms_demo.sh OUT (e.g.
# build/web/demo_ms). Writes nothing into git; the data stays where it is.
#
# 1. CASES (default 20) calibration cases of scripts/generate_ms_cases.py's held-out split
#    under the clean protocol (patient26's inpainted brain, five masks no training case used,
#    skull-stripped 1 mm as the source), seed 7;
# 2. their probability maps through scripts/infer.mjs: the app's own sliding window and the
#    bundled model with its own manifest, so they are what the page would compute;
# 3. a case score of each (`cls score --roi nonzero`): the calibration set the page loads, a
#    megabyte or two a case instead of three volumes;
# 4. the three real patients' FLAIR and consensus lesion mask, which the page segments with
#    the model and sets aside as new cases (their labels only say how the masks did).
# The slow part (1-3: about 17 s a case on 2 cores) is cached in build/ms_demo/<key>, keyed by
# the model, the generator and the recipe below (CASES in it). Exits 3, writing nothing, when
# the data is absent.
# Environment: CLS_OPEN_MS (default ../shared/data/open_ms), CASES, CLS (the cls binary).
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:?usage: scripts/build_ms_demo.sh OUT}
data=${CLS_OPEN_MS:-../shared/data/open_ms}
cases=${CASES:-20}
cls=${CLS:-build/native/cls}
patients=(patient07 patient19 patient26)

if [[ ! -d $data/lesion_masks_MNI ]]; then
  echo "build_ms_demo: no open_ms data at $data (set CLS_OPEN_MS); Load demo uses the synthetic scans" >&2
  exit 3
fi

# Steps 1-3 as a recipe: change it when they change, so the cache is made again.
recipe="held-out clean seed 7, $cases cases; infer.mjs with the manifest's settings; score --roi nonzero"
key=$(cat models/cls_unet.onnx models/cls_unet.json scripts/generate_ms_cases.py <(echo "$recipe") |
        sha256sum | cut -c1-16)
cache=build/ms_demo/$key
if [[ ! -f $cache/done ]]; then
  # What making the cases and maps needs beyond serving: Python's packages, onnxruntime-node and
  # the Node build of the sliding window (scripts/start.sh sets up only what serving needs).
  scripts/setup.sh demo
  [[ -f build/wasm/wasm/cls_infer.js ]] || scripts/build.sh wasm-release cls_infer
  rm -rf "$cache"
  mkdir -p "$cache/scores"
  started=$SECONDS
  /usr/bin/python3 scripts/generate_ms_cases.py --split held-out --protocol clean \
    --cases "$cases" --seed 7 --jobs "$(nproc)" --data "$data" --out "$cache/cases" >/dev/null
  node scripts/infer.mjs --model models/cls_unet.json --images "$cache/cases/images" \
    --out "$cache/cases/probs" --threads "$(nproc)" >/dev/null
  for image in "$cache"/cases/images/*.nii.gz; do
    name=$(basename "$image" .nii.gz)
    "$cls" score --probs "$cache/cases/probs/$name.nii.gz" --labels "$cache/cases/labels/$name.nii.gz" \
      --image "$image" --roi nonzero --out "$cache/scores/$name.score" >/dev/null
  done
  cp "$cache/cases/cases.json" "$cache/scores/cases.json"
  rm -rf "$cache/cases"  # the volumes: hundreds of MB the page does not need
  echo "build_ms_demo: $cases calibration cases scored in $((SECONDS - started)) s" >&2
  touch "$cache/done"
fi

rm -rf "$out"
mkdir -p "$out/images" "$out/labels"
cp -r "$cache/scores" "$out/scores"
for patient in "${patients[@]}"; do
  cp "$data/$patient"/FLAIR_*.nii.gz "$out/images/$patient.nii.gz"
  cp "$data/$patient"/GOLD_STANDARD_*.nii.gz "$out/labels/$patient.nii.gz"
done

# What the page loads, in this order: the scores (so tau comes first), the model, then the
# patients, which the model segments as they arrive and the page sets aside as new cases.
# The settings are the demo's own. The model misses most of the small generated lesion loads,
# so at the app's 0.1/0.1 tau is 2e-4 and the masks cover the white matter; at 0.5/0.2 it is
# 0.085, and the masks are 0.9-15 times the patients' lesion volumes (README, "The real-anatomy
# demo").
root=$(dirname "$out")
files=$(cd "$root" && { find "$(basename "$out")/scores" -name '*.score' | sort
                        echo models/cls_unet.json; echo models/cls_unet.onnx
                        find "$(basename "$out")/labels" "$(basename "$out")/images" -name '*.nii.gz' |
                          sort; } | sed 's/.*/"&"/' | paste -sd, -)
new_cases=$(printf '"%s",' "${patients[@]}")
# The citation the page shows under the app, short enough for one line (the cases' recipes in
# scores/cases.json have it in full).
citation="open_ms, Lesjak et al., Neuroinformatics 2017, DOI 10.1007/s12021-017-9348-7 (CC-BY)"
printf '{"files": [%s],\n "new_cases": [%s],\n "settings": {"epsilon": 0.5, "alpha": 0.2},\n "data": "%s"}\n' \
  "$files" "${new_cases%,}" "$citation" > "$out/manifest.json"
echo "build_ms_demo: real-anatomy demo in $out" >&2
