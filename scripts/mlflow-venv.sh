#!/usr/bin/env bash
# Prints the path of the MLflow test environment (the real `mlflow` package and pytest, pinned in
# scripts/mlflow-requirements.txt), installing it first when this machine lacks it. It lives outside
# the repo, keyed by the hash of the requirements file, so every clone reuses one install.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REQS="$ROOT/scripts/mlflow-requirements.txt"
HASH=$(sha256sum "$REQS" | cut -c1-16)
VENV="${TORA_MLFLOW_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/tora/venv-mlflow-$HASH}"
PYTHON="${PYTHON:-python3}"
if [ ! -f "$VENV/.complete" ]; then
  echo "installing the MLflow test environment into $VENV (once per machine)" >&2
  rm -rf "$VENV"
  mkdir -p "$(dirname "$VENV")"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
  "$VENV/bin/python" -m pip install -q -r "$REQS" >&2
  touch "$VENV/.complete"
fi
echo "$VENV"
