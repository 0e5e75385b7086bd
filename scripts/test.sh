#!/usr/bin/env bash
# Runs every test suite on a fresh clone: installs what it needs (npm packages, the Python
# client and its test tools, Debian's chromium when missing), then type-checks, lints and runs
# the server tests (SQLite and a throwaway PostgreSQL cluster), the Python client tests (core, then
# the framework integrations in their cached environment), the MLflow compatibility suite (the real
# mlflow client), the browser tests and the API contract fuzzing (schemathesis against a live server,
# ~2 minutes). Runs them all, then exits non-zero if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."

failed=()
timings=()
started=$SECONDS
# Prints each step's elapsed seconds after it and all of them at the end, so a slow step shows.
step() {
  local name=$1
  shift
  echo
  echo "==> $name"
  local t0=$SECONDS
  if ! "$@"; then
    failed+=("$name")
  fi
  echo "<== $name: $((SECONDS - t0)) s"
  timings+=("$(printf '%5d s  %s' "$((SECONDS - t0))" "$name")")
}

echo "==> installing npm packages"
npm ci --no-audit --no-fund --loglevel=error || exit 1
echo "==> building the server"
npm run build -w apps/server --silent || exit 1

step "server: typecheck" npm run typecheck -w apps/server --silent
step "server: lint" npm run lint -w apps/server --silent
step "format" npx prettier --check --log-level warn .
# Each suite runs with its own empty TMPDIR and fails if it leaves anything there.
step "server: tests (SQLite + PostgreSQL)" scripts/tmp-leak-check.sh npm test -w apps/server --silent
if [ -f scripts/test-python.sh ]; then step "python client" scripts/tmp-leak-check.sh bash scripts/test-python.sh; fi
if [ -f scripts/test-frameworks.sh ]; then step "python client: framework integrations" scripts/tmp-leak-check.sh bash scripts/test-frameworks.sh; fi
if [ -f scripts/test-mlflow.sh ]; then step "MLflow API (real mlflow client)" scripts/tmp-leak-check.sh bash scripts/test-mlflow.sh; fi
if [ -f scripts/test-web.sh ]; then step "web app (Chromium)" scripts/tmp-leak-check.sh bash scripts/test-web.sh; fi
if [ -f scripts/test-contract.sh ]; then step "API contract (schemathesis)" scripts/tmp-leak-check.sh bash scripts/test-contract.sh; fi

echo
echo "==> elapsed per step"
printf '%s\n' "${timings[@]}"
printf '%5d s  total\n' "$((SECONDS - started))"
echo
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
echo "all test suites passed"
