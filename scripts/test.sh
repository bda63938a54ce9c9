#!/usr/bin/env bash
# The whole test suite, as `make test` and CI run it: lint, import contracts, unit,
# integration (embedded PostgreSQL and Redis, or the URLs given), end-to-end in Chromium,
# then the integration subset again on this machine's own PostgreSQL and Redis if they answer.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
failed=0

step() { echo; echo "==> $*"; }
pytest_step() {
  # pytest exits 5 when it collects nothing: a selection that is empty here is not a failure.
  "$PY" -m pytest "$@"
  local rc=$?
  if [ $rc -ne 0 ] && [ $rc -ne 5 ]; then failed=1; fi
}

step "ruff"
.venv/bin/ruff check . || failed=1
step "import contracts"
.venv/bin/lint-imports || failed=1

step "unit tests"
pytest_step tests/unit -q -p no:cacheprovider
step "integration tests"
pytest_step tests/integration -q -p no:cacheprovider
step "end-to-end tests (Chromium)"
pytest_step tests/e2e -q -p no:cacheprovider

if [ -z "${DATABASE_URL:-}" ] && [ -z "${REDIS_URL:-}" ] && \
   "$PY" -c "import socket,sys; [socket.create_connection(('127.0.0.1',p),1).close() for p in (5432,6379)]" 2>/dev/null; then
  step "integration subset on this machine's PostgreSQL (5432) and Redis (6379)"
  DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/0 \
    pytest_step tests/integration -q -p no:cacheprovider -m local_services
fi

echo
if [ $failed -ne 0 ]; then echo "FAILED"; exit 1; fi
echo "all test steps passed"
