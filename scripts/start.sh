#!/usr/bin/env bash
# One command: set up, index the sample knowledge base, and start the main job.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/copilot ingest
.venv/bin/copilot search "老人适合买什么理财" --segment pension -k 3
