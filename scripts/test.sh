#!/usr/bin/env bash
# Runs every test suite on a fresh clone: installs what it needs (npm packages, SeaweedFS built with Go, the Python
# client and its test tools, Debian's chromium when missing), then type-checks, lints and runs
# the server tests (SQLite and a throwaway PostgreSQL cluster), the Python client tests (core, beside
# the MLflow compatibility suite with the real mlflow client; then the framework integrations in their
# cached environment), the browser tests, then every benchmark at its smoke size (~3 minutes) with
# the API contract fuzzing beside it (schemathesis against a live server, ~2 minutes). Runs them all,
# prints each step's elapsed seconds, then exits non-zero if any failed.
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

# A step that runs in the background beside the next ones (for suites that mostly wait on servers
# and timeouts); join_steps waits for it and prints its output and time where it is joined.
bg_names=()
bg_pids=()
bg_logs=()
step_alongside() {
  local name=$1
  shift
  local log
  log="$(mktemp)"
  echo
  echo "==> $name (runs alongside the next steps; its output follows when it is joined)"
  (
    t0=$SECONDS
    "$@"
    status=$?
    echo "$((SECONDS - t0))" >"$log.seconds"
    exit "$status"
  ) >"$log" 2>&1 &
  bg_names+=("$name")
  bg_pids+=("$!")
  bg_logs+=("$log")
}
join_steps() {
  local i status seconds
  for i in "${!bg_pids[@]}"; do
    status=0
    wait "${bg_pids[$i]}" || status=$?
    seconds="$(cat "${bg_logs[$i]}.seconds" 2>/dev/null || echo "?")"
    echo
    echo "==> ${bg_names[$i]} (ran alongside)"
    cat "${bg_logs[$i]}"
    rm -f "${bg_logs[$i]}" "${bg_logs[$i]}.seconds"
    if [ "$status" -ne 0 ]; then failed+=("${bg_names[$i]}"); fi
    echo "<== ${bg_names[$i]}: $seconds s (alongside)"
    timings+=("$(printf '%5s s  %s (alongside)' "$seconds" "${bg_names[$i]}")")
  done
  bg_names=()
  bg_pids=()
  bg_logs=()
}

# npm ci starts from an empty node_modules and compiles better-sqlite3 (1-2 min on 2 cores); a tree
# that npm ci installed from this very package-lock.json (the stamp) and that npm ls finds whole skips it.
lock_sha="$(sha256sum package-lock.json | cut -d' ' -f1)"
t0=$SECONDS
if [ "$(cat node_modules/.tora-installed-lock 2>/dev/null)" = "$lock_sha" ] && npm ls --all >/dev/null 2>&1; then
  echo "==> npm packages: already installed from this package-lock.json (npm ci skipped)"
else
  echo "==> installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error || exit 1
  echo "$lock_sha" >node_modules/.tora-installed-lock
fi
timings+=("$(printf '%5d s  %s' "$((SECONDS - t0))" "npm packages")")
# The server tests' S3-compatible server (SeaweedFS) is built from the Go module proxy once (a few
# minutes on 2 cores), into ~/.cache/tora/seaweedfs-<version>; a machine that has it skips the build.
t0=$SECONDS
echo "==> SeaweedFS (the S3-compatible server of the server tests)"
node scripts/seaweedfs.mjs install || exit 1
timings+=("$(printf '%5d s  %s' "$((SECONDS - t0))" "SeaweedFS")")
t0=$SECONDS
echo "==> building the server"
npm run build -w apps/server --silent || exit 1
timings+=("$(printf '%5d s  %s' "$((SECONDS - t0))" "server build")")

step "server: typecheck" npm run typecheck -w apps/server --silent
step "server: lint" npm run lint -w apps/server --silent
step "format" npx prettier --check --log-level warn .
# Each suite runs with its own empty TMPDIR and fails if it leaves anything there.
step "server: tests (SQLite + PostgreSQL)" scripts/tmp-leak-check.sh npm test -w apps/server --silent
# The Python client suite mostly waits (~30 s of CPU in ~200 s): it runs beside the MLflow suite.
if [ -f scripts/test-python.sh ]; then step_alongside "python client" scripts/tmp-leak-check.sh bash scripts/test-python.sh; fi
if [ -f scripts/test-mlflow.sh ]; then step "MLflow API (real mlflow client)" scripts/tmp-leak-check.sh bash scripts/test-mlflow.sh; fi
join_steps
if [ -f scripts/test-frameworks.sh ]; then step "python client: framework integrations" scripts/tmp-leak-check.sh bash scripts/test-frameworks.sh; fi
if [ -f scripts/test-team.sh ]; then step "team deployment (nginx, 3 replicas, PostgreSQL)" scripts/tmp-leak-check.sh bash scripts/test-team.sh; fi
if [ -f scripts/test-web.sh ]; then step "web app (Chromium)" scripts/tmp-leak-check.sh bash scripts/test-web.sh; fi
# The contract fuzzing is bounded by time, not by cases (CONTRACT_MAX_TIME), so it runs beside the
# benchmarks' smoke runs (whose figures are not results) instead of adding its ~2 minutes after them.
if [ -f scripts/test-contract.sh ]; then step_alongside "API contract (schemathesis)" scripts/tmp-leak-check.sh bash scripts/test-contract.sh; fi
# Every benchmark at its --smoke size (after the suites that install their Python environments and
# Chromium), so a benchmark that stops running fails here; its figures are not results.
if [ -f scripts/bench-smoke.sh ]; then step "benchmarks (smoke sizes)" scripts/tmp-leak-check.sh bash scripts/bench-smoke.sh --strict; fi
join_steps

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
