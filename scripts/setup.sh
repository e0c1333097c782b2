#!/usr/bin/env bash
# Installs CLS Studio's dependencies on Debian 12, from Debian's packages and npm:
#   scripts/setup.sh          everything to build, test, benchmark and fuzz (scripts/test.sh, CI)
#   scripts/setup.sh serve    only what scripts/start.sh needs to build and serve the app: no
#                             browser, test libraries, Python packages, fuzzing clang or test-only
#                             npm modules (a fresh machine's first start is minutes shorter)
#   scripts/setup.sh demo     serve's, plus what building the real-anatomy demo needs when
#                             open_ms is present (scripts/build_ms_demo.sh): Python's numpy,
#                             nibabel and scipy, and onnxruntime-node
# Idempotent: when everything is already present it only checks and returns in about a second.
# Run as root (CI and the developer machines are root); otherwise it re-runs itself through sudo.
set -euo pipefail
mode="${1:-all}"
[[ $mode == all || $mode == serve || $mode == demo ]] ||
  { echo "usage: scripts/setup.sh [serve|demo]" >&2; exit 2; }

# What building the app and its demo cases needs (`cls synth` makes them natively).
serve_packages=(
  g++ cmake ninja-build pkg-config         # native toolchain
  libeigen3-dev nlohmann-json3-dev         # header-only core dependencies
  zlib1g-dev libdeflate-dev                # .nii.gz at the file edge: libdeflate inflates whole
                                           # files 2-3x faster than zlib, which writes them
  libssl-dev                               # SHA-256 of inputs through libcrypto's EVP: it uses
                                           # the CPU's SHA extensions, ~8x our portable code
  libcli11-dev                             # the CLI's options and per-command --help
  libzip-dev                               # nnU-Net's .npz probabilities at the native file edge
  emscripten                               # the core and the app compiled to WebAssembly
  dpkg-dev                                 # apt-get source, for Dear ImGui's sources
)
# The real-anatomy demo's cases (scripts/generate_ms_cases.py), and tests' golden values and
# nibabel-written fixtures.
demo_packages=(python3-numpy python3-nibabel python3-scipy)
# Only tests, benchmarks and fuzzing need these.
test_packages=(
  libgtest-dev libgmock-dev libbenchmark-dev
  chromium chromium-driver                 # browser end-to-end tests
  python3-onnx                             # ONNX fixtures written by onnx itself
  python3-torch                            # test-only: networks exported as nnU-Net and MONAI
                                           # users export them (make_torch_networks.py); torch's
                                           # own exporter is the only faithful source of them
  python3-pydicom dcm2niix                 # test-only: DICOM series written by pydicom, and the
                                           # CLI conversion the README gives (tests/web/dicom.test.mjs)
  clang libclang-rt-14-dev                 # libFuzzer and its sanitizers (scripts/fuzz.sh)
  snakemake                                # the cohort workflow (workflows/Snakefile): the engine
                                           # the field runs such pipelines with, locally and on Slurm
  slurm-wlm munge                          # test-only: a one-node Slurm the workflow test starts
                                           # and stops (tests/workflow/), since CI has no cluster;
                                           # it runs its own daemons, on free ports with their
                                           # config in a temporary folder, and leaves the system's alone
)
packages=("${serve_packages[@]}")
[[ $mode != serve ]] && packages+=("${demo_packages[@]}")
[[ $mode == all ]] && packages+=("${test_packages[@]}")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if ((${#missing[@]})); then
  if [[ $EUID -ne 0 ]]; then exec sudo "$0" "$@"; fi
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "setup: all dependencies present ($mode)" >&2
"$(dirname "$0")/fetch_imgui.sh"
# From npm, at the versions package-lock.json pins. The page serves two from our own origin
# (package.json's dependencies): onnxruntime-web (the model runtime) and @niivue/dcm2niix (the
# DICOM converter). The rest are devDependencies: onnxruntime-node (batch inference and the
# parity test), playwright-core (browser tests; it drives Debian's Chromium and downloads no
# browser) and @niivue/niivue (the viewer benchmark's peer).
# onnxruntime-node's post-install would fetch CUDA files, which we neither need nor can reach.
cd "$(dirname "$0")/.."
serve_modules=(onnxruntime-web @niivue/dcm2niix)
test_modules=(playwright-core onnxruntime-node @niivue/niivue)
if [[ $mode == serve ]]; then
  for module in "${serve_modules[@]}"; do
    if [[ ! -d node_modules/$module ]]; then
      npm ci --omit=dev --no-audit --no-fund --loglevel=error
      break
    fi
  done
else
  [[ $mode == demo ]] && test_modules=(onnxruntime-node)  # the demo's batch inference
  for module in "${serve_modules[@]}" "${test_modules[@]}"; do
    if [[ ! -d node_modules/$module ]]; then
      ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error
      break
    fi
  done
fi
