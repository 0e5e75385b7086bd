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
# The client promises Python >= 3.9: the suite also runs on the oldest interpreter this machine has,
# at the same time as on the main one. It mostly waits (servers that come late, retries, backoff:
# ~30 s of CPU in ~200 s), so the two runs together take about as long as one.
OLDEST=$(ls -d "$HOME"/.pyenv/versions/3.9.*/bin/python 2>/dev/null | head -n 1 || true)
if [ -n "$OLDEST" ]; then
  VENV39="$CLIENT/.venv39"
  [ -x "$VENV39/bin/python" ] || "$OLDEST" -m venv "$VENV39"
  "$VENV39/bin/python" -m pip install -q --upgrade pip >/dev/null
  "$VENV39/bin/python" -m pip install -q --force-reinstall --no-deps "./$CLIENT"
  "$VENV39/bin/python" -m pip install -q pytest==8.4.2 numpy==2.0.2
  LOG39="$(mktemp)"
  "$VENV39/bin/python" -m pytest -q -p no:cacheprovider "$CLIENT/tests" "$@" >"$LOG39" 2>&1 &
  PID39=$!
  trap 'kill "$PID39" 2>/dev/null || true; rm -f "$LOG39"' EXIT
fi

echo "== pytest on $("$VENV/bin/python" --version)"
status=0
"$VENV/bin/python" -m pytest -q -p no:cacheprovider "$CLIENT/tests" "$@" || status=$?

if [ -n "$OLDEST" ]; then
  status39=0
  wait "$PID39" || status39=$?
  echo "== pytest on $("$OLDEST" --version) (ran alongside)"
  cat "$LOG39"
  if [ "$status" -eq 0 ]; then status=$status39; fi
else
  echo "== no Python 3.9 here (pyenv); the suite ran on $("$VENV/bin/python" --version) only"
fi
exit "$status"
