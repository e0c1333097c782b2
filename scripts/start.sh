#!/usr/bin/env bash
# The main job: set up, build the browser app with its demo cases, and serve it on localhost.
# Open the printed address and press "Load demo". PORT=... picks another port.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build_web.sh
exec node scripts/serve.mjs "${PORT:-8080}"
