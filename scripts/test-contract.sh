#!/usr/bin/env bash
# Contract fuzzing: schemathesis (pinned, in a cached venv) generates requests from the served
# OpenAPI document and runs every check it has (no server error, responses match their schema,
# status codes and content types declared, bad input refused, undeclared methods 405, …) against a
# real server on SQLite, on a free loopback port, as a user with an API key. Bounded in time:
# CONTRACT_MAX_TIME seconds of generation (default 100), about two minutes in all.
# Usage: scripts/test-contract.sh [extra `st run` options]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV=.venv-contract
SCHEMATHESIS=schemathesis==4.32.5
MAX_TIME="${CONTRACT_MAX_TIME:-100}"

if [ ! -x "$VENV/bin/st" ] || ! "$VENV/bin/python" -m pip show -q schemathesis 2>/dev/null | grep -q "^Version: ${SCHEMATHESIS#*==}$"; then
  [ -x "$VENV/bin/python" ] || "${PYTHON:-python3}" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
  "$VENV/bin/python" -m pip install -q "$SCHEMATHESIS"
fi

if [ ! -f apps/server/dist/main.js ] || [ -n "$(find apps/server/src -newer apps/server/dist/main.js -print -quit)" ]; then
  echo "== building server"
  npm run build -w apps/server --silent
fi

DATA="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$DATA"
}
trap cleanup EXIT

export TORA_DATA_DIR="$DATA" TORA_DATABASE_URL="" TORA_LOG_LEVEL=warn TORA_ALLOW_SIGNUP=true TORA_HOST=127.0.0.1
TORA="node apps/server/bin/tora.js"
$TORA user create --email contract@example.com --password 'contract fuzzing password' >/dev/null
KEY="$($TORA key create --email contract@example.com --name contract | grep -o 'tora_[A-Za-z0-9]*' | head -n 1)"
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
TORA_PORT="$PORT" $TORA serve >"$DATA/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
  if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/api/health', timeout=1)" 2>/dev/null; then break; fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    cat "$DATA/server.log" >&2
    exit 1
  fi
  sleep 0.2
done

echo "== schemathesis $SCHEMATHESIS against http://127.0.0.1:$PORT/api/openapi.json (${MAX_TIME}s)"
status=0
# Every check is on by default; `--checks all` is not passed because a CLI option would override the
# one per-operation exception in scripts/schemathesis.toml.
"$VENV/bin/st" --config-file scripts/schemathesis.toml run "http://127.0.0.1:$PORT/api/openapi.json" \
  --header "x-api-key: $KEY" \
  --max-time "$MAX_TIME" \
  --workers 1 \
  --seed "${CONTRACT_SEED:-1}" \
  --request-timeout 20 \
  --no-color \
  "$@" || status=$?
# A run that lost its key stopped testing at that moment (each later request a 401): a failure.
if ! python3 -c "import sys, urllib.request; urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:$PORT/api/auth/me', headers={'x-api-key': sys.argv[1]}), timeout=5)" "$KEY"; then
  echo "== the fuzzer's API key no longer works: the run stopped testing when it was revoked" >&2
  status=1
fi
if [ $status -ne 0 ]; then
  echo "== last lines of the server log"
  tail -n 40 "$DATA/server.log" >&2
fi
exit $status
