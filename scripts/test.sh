#!/usr/bin/env bash
# The test command: set up .venv with the test extras and Chromium if needed, then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
exec .venv/bin/python -m pytest "$@"
