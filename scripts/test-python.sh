#!/usr/bin/env bash
# Python client gates: ruff, mypy --strict, pytest (unit + integration against a real server).
# Usage: scripts/test-python.sh [extra pytest args]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CLIENT=clients/python
VENV="$CLIENT/.venv"
PYTHON="${PYTHON:-python3}"

if [ ! -f apps/server/dist/main.js ]; then
  echo "building the server (apps/server/dist is missing)"
  npm run build -w apps/server
fi

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
# A regular (non-editable) install: the tests import the package the way users get it.
"$VENV/bin/python" -m pip install -q --force-reinstall --no-deps "./$CLIENT"
# Pinned so a new release of a gate cannot turn CI red on its own.
"$VENV/bin/python" -m pip install -q pytest==9.2.0 numpy==2.4.6 ruff==0.17.6 mypy==2.4.1

echo "== ruff"
"$VENV/bin/ruff" check "$CLIENT"
"$VENV/bin/ruff" format --check "$CLIENT/src" "$CLIENT/tests" "$CLIENT/tests-frameworks"
echo "== mypy --strict"
(cd "$CLIENT" && .venv/bin/mypy)
echo "== pytest"
"$VENV/bin/python" -m pytest -q -p no:cacheprovider "$CLIENT/tests" "$@"

# The client promises Python >= 3.9: run the suite on the oldest interpreter this machine has.
OLDEST=$(ls -d "$HOME"/.pyenv/versions/3.9.*/bin/python 2>/dev/null | head -n 1 || true)
if [ -n "$OLDEST" ]; then
  echo "== pytest on $("$OLDEST" --version)"
  VENV39="$CLIENT/.venv39"
  [ -x "$VENV39/bin/python" ] || "$OLDEST" -m venv "$VENV39"
  "$VENV39/bin/python" -m pip install -q --upgrade pip >/dev/null
  "$VENV39/bin/python" -m pip install -q --force-reinstall --no-deps "./$CLIENT"
  "$VENV39/bin/python" -m pip install -q pytest==8.4.2 numpy==2.0.2
  "$VENV39/bin/python" -m pytest -q -p no:cacheprovider "$CLIENT/tests" "$@"
else
  echo "== no Python 3.9 here (pyenv); the suite ran on $("$VENV/bin/python" --version) only"
fi
