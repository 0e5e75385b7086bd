#!/usr/bin/env bash
# Every benchmark under bench/ at its --smoke size (tiny data, seconds each, baselines included where
# they need no extra install), so a benchmark that stops running fails the test command. The figures
# these runs print are not results (each says so); full runs are by hand, see bench/README.md.
# The Python benchmarks use the environments scripts/test-mlflow.sh and scripts/test-frameworks.sh
# install; with --strict (the test command) a missing one fails, otherwise it is skipped with a note.
# Usage: scripts/bench-smoke.sh [--strict]
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
strict=0
[ "${1:-}" = "--strict" ] && strict=1

CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/tora"
MLFLOW_VENV="${TORA_MLFLOW_VENV:-$CACHE/venv-mlflow-$(sha256sum scripts/mlflow-requirements.txt | cut -c1-16)}"
FRAMEWORKS_VENV="${TORA_FRAMEWORKS_CACHE:-$CACHE}/venv-frameworks-$(sha256sum clients/python/tests-frameworks/requirements.txt | cut -c1-16)"

[ -f apps/server/dist/main.js ] || npm run build -w apps/server --silent || exit 1
[ -f apps/web/build/200.html ] || npm run build -w apps/web --silent || exit 1

passed=0
failed=0
failures=()
run() {
  local name=$1
  shift
  echo
  echo "-- $name: $*"
  local t0=$SECONDS
  if "$@"; then
    passed=$((passed + 1))
    echo "-- $name: ok ($((SECONDS - t0)) s)"
  else
    failed=$((failed + 1))
    failures+=("$name")
    echo "-- $name: FAILED ($((SECONDS - t0)) s)"
  fi
}
# A Python benchmark in an environment the other suites install.
run_py() {
  local name=$1 venv=$2
  shift 2
  if [ ! -x "$venv/bin/python" ]; then
    if [ "$strict" = 1 ]; then
      failed=$((failed + 1))
      failures+=("$name")
      echo "-- $name: FAILED: its environment $venv is missing"
    else
      echo "-- $name: skipped: $venv is missing (scripts/test-mlflow.sh or scripts/test-frameworks.sh installs it)"
    fi
    return
  fi
  # As scripts/test-frameworks.sh runs them: Keras on torch, no hub, torch.compile's cache kept with the cache.
  run "$name" env PYTHONPATH="$ROOT/clients/python/src" KERAS_BACKEND=torch HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
    YOLO_OFFLINE=1 TORCHINDUCTOR_CACHE_DIR="$CACHE/torchinductor" "$venv/bin/python" "$@"
}

run "ingest" node bench/ingest/run.mjs --smoke --memory
run "ingest parser" node bench/ingest/parse.mjs --smoke
run "series-read" node bench/series-read/run.mjs --smoke --postgres
run "compare" node bench/compare/run.mjs --smoke --postgres
run "memory" node bench/memory/run.mjs --smoke
run "transfer" node bench/transfer/run.mjs --smoke --postgres
run "blocks" node bench/blocks/run.mjs --smoke --postgres
run "hardening" node bench/hardening/run.mjs --smoke
run "many runs" node bench/many-runs/run.mjs --smoke --postgres
run "files" node bench/files/run.mjs --smoke
run "team deployment" node bench/team/run.mjs --smoke
run "web" node --import tsx bench/web/run.ts --smoke
run "media in the browser" node --import tsx bench/media/browser.ts --smoke
run_py "mlflow client" "$MLFLOW_VENV" bench/mlflow/run.py --smoke
run "mlflow log-batch A/B" python3 bench/mlflow/ab.py . . --tags --smoke
run_py "python client" "$MLFLOW_VENV" bench/client/run.py --smoke
run_py "media" "$MLFLOW_VENV" bench/media/run.py --smoke
run_py "system metrics and callbacks" "$FRAMEWORKS_VENV" bench/client/system_and_callbacks.py --smoke

echo
if [ "$failed" -gt 0 ]; then echo "benchmarks failed: ${failures[*]}"; fi
# The plain closing line the test runner's summary reads.
echo "benchmarks: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
