#!/usr/bin/env bash
# First run: installs bloatscope into .venv and analyzes the built-in sample image.
#
#   bash scripts/quickstart.sh [ANALYZE ARGS ...]     e.g. --format json
#
# Needs Python 3.11 or newer; no Docker engine, no network beyond PyPI for the install.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  if ! "$python" -m venv .venv; then
    rm -rf .venv
    echo "quickstart: '$python -m venv' failed; on Debian or Ubuntu: apt-get install python3-venv" >&2
    exit 2
  fi
fi
echo "==> installing bloatscope into .venv"
.venv/bin/python -m pip install -q .
if [ $# -eq 0 ]; then
  echo "==> .venv/bin/bloatscope analyze   (no image given: the built-in sample image)"
else
  echo "==> .venv/bin/bloatscope analyze $*"
fi
exec .venv/bin/bloatscope analyze "$@"
