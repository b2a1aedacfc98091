#!/usr/bin/env bash
# One command: set up (incl. the test browser) and run lint, the test suite and the evaluation harness.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
.venv/bin/ruff check .
.venv/bin/pytest -q -p no:cacheprovider "$@"
