#!/usr/bin/env bash
# The main job, end to end: set up, build, make a synthetic labelled set, calibrate a CLS
# threshold on half of it, apply it to the other half and print tau beside the share of
# held-out cases whose FNR <= epsilon (and the same for the fixed 0.5 cut).
# Output lands in demo/ (ignored by git). Environment: EPSILON, ALPHA, CASES, SIZE, SEED.
set -euo pipefail
cd "$(dirname "$0")/.."
epsilon="${EPSILON:-0.2}"
alpha="${ALPHA:-0.1}"
cases="${CASES:-100}"
size="${SIZE:-48}"
seed="${SEED:-2026}"

scripts/build.sh native-release
cls=build/native/cls

rm -rf demo
"$cls" synth --cases "$cases" --size "$size" --seed "$seed" --out demo/all

# Exchangeable halves: the generator draws every case independently from the same seed.
half=$((cases / 2))
for part in calibration held_out; do mkdir -p "demo/$part/probs" "demo/$part/labels"; done
i=0
for file in $(ls demo/all/probs); do
  part=calibration; ((i >= half)) && part=held_out
  ln -s "../../all/probs/$file" "demo/$part/probs/$file"
  ln -s "../../all/labels/$file" "demo/$part/labels/$file"
  i=$((i + 1))
done

echo
"$cls" calibrate --probs demo/calibration/probs --labels demo/calibration/labels \
  --epsilon "$epsilon" --alpha "$alpha" --out demo/certificate.json
first_held_out=$(ls demo/held_out/probs | head -n 1)
"$cls" apply --calibration demo/certificate.json --probs "demo/held_out/probs/$first_held_out" \
  --out "demo/mask_${first_held_out}"
echo
"$cls" assess --calibration demo/certificate.json --probs demo/held_out/probs \
  --labels demo/held_out/labels --json demo/assessment.json
