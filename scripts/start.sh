#!/usr/bin/env bash
# The main job: set up, build the browser app with its demo cases, and serve it on localhost.
# Open the printed address and press "Load demo". PORT=... picks another port.
# It installs and builds only what serving needs (CLS_SERVE_ONLY); scripts/test.sh sets up the
# rest.
set -euo pipefail
cd "$(dirname "$0")/.."
CLS_SERVE_ONLY=1 scripts/build_web.sh
exec node scripts/serve.mjs "${PORT:-8080}"
