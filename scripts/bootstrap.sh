#!/usr/bin/env bash
# Installs what Waybill needs into the project folder: the virtualenv (.venv) and bun (from npm).
# Safe to run again: each step is skipped when its inputs have not changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$PYTHON" -m venv .venv
fi
if [ ! -f .venv/.installed ] || [ pyproject.toml -nt .venv/.installed ]; then
  echo "==> installing Python dependencies"
  # pip's output goes to a log, shown only when the install fails.
  if ! { .venv/bin/python -m pip install --upgrade pip && .venv/bin/python -m pip install -e '.[dev,demo]'; } \
      > .venv/pip-install.log 2>&1; then
    cat .venv/pip-install.log
    exit 1
  fi
  touch .venv/.installed
fi

# Reflex builds its frontend with bun. Reflex would download bun from the web; the npm
# package carries the same binary, so we take it from the npm registry instead.
BUN_VERSION=1.4.5
if [ ! -x .venv/bun/node_modules/.bin/bun ] || ! .venv/bun/node_modules/.bin/bun --version >/dev/null 2>&1; then
  command -v npm >/dev/null || { echo "npm is required (Node.js 20 or newer)"; exit 1; }
  echo "==> installing bun ${BUN_VERSION} from npm"
  mkdir -p .venv/bun
  npm install --prefix .venv/bun --no-fund --no-audit --loglevel=error "bun@${BUN_VERSION}" >/dev/null
fi
