#!/usr/bin/env bash
# One command: set up (incl. the test browser), lint, run the evaluation harness against
# eval/thresholds.yaml (reports kept in out/), then the whole pytest suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
.venv/bin/ruff check .
.venv/bin/copilot eval --suite all --writer template --report out/eval
.venv/bin/copilot eval --suite drafting --writer local --limit 3 --report out/eval-local
.venv/bin/pytest -q -p no:cacheprovider "$@"
