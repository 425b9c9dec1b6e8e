#!/usr/bin/env bash
# The main job: set up .venv if needed (what `ser` needs; no test extras, no Chromium), then run the demo
# pipeline and a prediction from the pushed model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/ser demo "$@"
