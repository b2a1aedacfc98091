#!/usr/bin/env bash
# One command: set up everything, index the sample knowledge base on first start, and serve the
# RM chat panel and the HTTP API at http://127.0.0.1:8000 (local model, local vector store).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/copilot serve "$@"
