#!/usr/bin/env bash
# Framework integration tests: tiny models trained for a few steps with the real torch,
# transformers, lightning, keras (torch backend) and ultralytics against a real Tora server.
# Those packages are GBs (torch pulls its CUDA wheels from PyPI), so they are installed once per
# machine into a virtual environment outside the repo, keyed by the sha256 of
# clients/python/tests-frameworks/requirements.txt; a warm run only reinstalls the client.
# The MLflow client (requirements-mlflow.txt) goes into the same venv on top, once per content of
# that file (a stamp inside the venv named by its hash), so changing it reinstalls only itself.
# Usage: scripts/test-frameworks.sh [extra pytest args]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CLIENT=clients/python
REQS="$CLIENT/tests-frameworks/requirements.txt"
MLFLOW_REQS="$CLIENT/tests-frameworks/requirements-mlflow.txt"
PYTHON="${PYTHON:-python3}"
HASH=$(sha256sum "$REQS" | cut -c1-16)
CACHE="${TORA_FRAMEWORKS_CACHE:-$HOME/.cache/tora}"
VENV="$CACHE/venv-frameworks-$HASH"

if [ ! -f apps/server/dist/main.js ]; then
  echo "building the server (apps/server/dist is missing)"
  npm run build -w apps/server
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "== installing the frameworks into $VENV (once per machine; several GB)"
  mkdir -p "$CACHE"
  TMP="$VENV.tmp-$$"
  rm -rf "$TMP"
  "$PYTHON" -m venv "$TMP"
  "$TMP/bin/python" -m pip install -q --upgrade pip >/dev/null
  "$TMP/bin/python" -m pip install -q -r "$REQS"
  # Everything below runs `$VENV/bin/python -m ...`, so the move does not break script paths;
  # a concurrent run that finished first wins, and this copy is dropped.
  mv -T "$TMP" "$VENV" 2>/dev/null || rm -rf "$TMP"
fi

MLFLOW_STAMP="$VENV/.mlflow-$(sha256sum "$MLFLOW_REQS" | cut -c1-16)"
if [ ! -f "$MLFLOW_STAMP" ]; then
  echo "== installing the MLflow client into $VENV"
  "$VENV/bin/python" -m pip install -q -r "$MLFLOW_REQS"
  touch "$MLFLOW_STAMP"
fi

# The client as users get it (a regular install), over the cached frameworks.
"$VENV/bin/python" -m pip install -q --force-reinstall --no-deps "./$CLIENT"
export KERAS_BACKEND=torch
# Nothing may come from a hub at run time.
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 YOLO_OFFLINE=1
# test_via_mlflow.py points MLflow at the test server itself; nothing of a developer's setup leaks in.
unset MLFLOW_TRACKING_URI MLFLOW_TRACKING_TOKEN MLFLOW_TRACKING_USERNAME MLFLOW_TRACKING_PASSWORD MLFLOW_EXPERIMENT_NAME
export MLFLOW_HTTP_REQUEST_MAX_RETRIES=2 MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR=0
# torch.compile's kernel cache is kept with the cached frameworks, not left in TMPDIR.
export TORCHINDUCTOR_CACHE_DIR="$CACHE/torchinductor"
BASETEMP=$(mktemp -d)
trap 'rm -rf "$BASETEMP"' EXIT
"$VENV/bin/python" -m pytest -q -p no:cacheprovider --basetemp "$BASETEMP" "$CLIENT/tests-frameworks" "$@"
