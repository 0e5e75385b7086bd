#!/usr/bin/env bash
# The MLflow compatibility suite: the real `mlflow` package (client and tracking server, pinned in
# scripts/mlflow-requirements.txt) against a real Tora server, on SQLite and then on a throwaway
# PostgreSQL cluster. The heavy virtual environment lives outside the repo, keyed by the hash of
# the requirements file, so it is installed once per machine and reused by every clone.
# Usage: scripts/test-mlflow.sh [extra pytest args]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$(bash scripts/mlflow-venv.sh)"

if [ ! -f apps/server/dist/main.js ]; then
  npm run build -w apps/server
fi

# The client must not pick up a developer's MLflow settings.
unset MLFLOW_TRACKING_URI MLFLOW_TRACKING_TOKEN MLFLOW_TRACKING_USERNAME MLFLOW_TRACKING_PASSWORD MLFLOW_EXPERIMENT_NAME
export MLFLOW_HTTP_REQUEST_MAX_RETRIES=2 MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR=0

# pytest's temporary directories live here and go with the run (pytest-of-<user> would stay in TMPDIR).
BASETEMP=$(mktemp -d)
cleanup() { rm -rf "$BASETEMP"; }
trap cleanup EXIT

if [ "${TORA_MLFLOW_SKIP_POSTGRES:-}" = "1" ]; then
  echo "== mlflow suite on SQLite"
  TORA_DATABASE_URL='' "$VENV/bin/python" -m pytest -q -p no:cacheprovider --basetemp "$BASETEMP/sqlite" tests/mlflow "$@"
  exit 0
fi

# The two passes run at the same time, each with its own Tora (and MLflow) server: much of each is
# waiting on servers, so together they take little longer than one.
CLUSTER=$(node scripts/pg-cluster.mjs start)
DIR=$(node -e 'console.log(JSON.parse(process.argv[1]).dir)' "$CLUSTER")
URL=$(node -e 'console.log(JSON.parse(process.argv[1]).url)' "$CLUSTER")
SQLITE_PID=""
trap 'if [ -n "$SQLITE_PID" ]; then kill "$SQLITE_PID" 2>/dev/null || true; wait "$SQLITE_PID" 2>/dev/null || true; fi; node scripts/pg-cluster.mjs stop "$DIR"; cleanup' EXIT
mkdir -p "$BASETEMP/logs"
TORA_DATABASE_URL='' "$VENV/bin/python" -m pytest -q -p no:cacheprovider --basetemp "$BASETEMP/sqlite" tests/mlflow "$@" \
  >"$BASETEMP/logs/sqlite.log" 2>&1 &
SQLITE_PID=$!

echo "== mlflow suite on PostgreSQL"
status=0
TORA_DATABASE_URL="$URL" "$VENV/bin/python" -m pytest -q -p no:cacheprovider --basetemp "$BASETEMP/postgres" tests/mlflow "$@" || status=$?
sqlite_status=0
wait "$SQLITE_PID" || sqlite_status=$?
SQLITE_PID=""
echo "== mlflow suite on SQLite (ran alongside)"
cat "$BASETEMP/logs/sqlite.log"
if [ "$status" -eq 0 ]; then status=$sqlite_status; fi
exit "$status"
