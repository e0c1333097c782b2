#!/usr/bin/env bash
# Installs every build and test dependency of CLS Studio on Debian 12, from Debian's packages.
# Idempotent: when everything is already present it only checks and returns in about a second.
# Run as root (CI and the developer machines are root); otherwise it re-runs itself through sudo.
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config         # native toolchain
  libeigen3-dev nlohmann-json3-dev         # header-only core dependencies
  zlib1g-dev                               # .nii.gz at the file edge
  libcli11-dev                             # the CLI's options and per-command --help
  libzip-dev                               # nnU-Net's .npz probabilities at the native file edge
  libgtest-dev libgmock-dev libbenchmark-dev
  emscripten                               # the core and the app compiled to WebAssembly
  dpkg-dev                                 # apt-get source, for Dear ImGui's sources
  chromium chromium-driver                 # browser end-to-end tests
  python3-numpy python3-nibabel            # independent golden values and nibabel-written fixtures
  python3-scipy                            # scripts/generate_ms_cases.py (cases from real MRI)
  python3-onnx                             # ONNX fixtures written by onnx itself
  python3-pydicom dcm2niix                 # test-only: DICOM series written by pydicom, and the
                                           # CLI conversion the README gives (tests/web/dicom.test.mjs)
  clang libclang-rt-14-dev                 # libFuzzer and its sanitizers (scripts/fuzz.sh)
)

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
echo "setup: all dependencies present" >&2
"$(dirname "$0")/fetch_imgui.sh"
# From npm, at the versions package-lock.json pins: onnxruntime-web (the page's model runtime,
# served from our own origin), @niivue/dcm2niix (the page's DICOM converter, likewise),
# onnxruntime-node (batch inference and the parity test) and
# playwright-core (browser tests; it drives Debian's Chromium and downloads no browser).
# onnxruntime-node's post-install would fetch CUDA files, which we neither need nor can reach.
cd "$(dirname "$0")/.."
for module in playwright-core onnxruntime-web onnxruntime-node @niivue/dcm2niix; do
  if [[ ! -d node_modules/$module ]]; then
    ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error
    break
  fi
done
