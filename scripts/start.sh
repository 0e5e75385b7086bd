#!/usr/bin/env bash
# Starts Tora with its embedded SQLite database (data in TORA_DATA_DIR, default ~/.tora). Open
# http://127.0.0.1:8080 (TORA_PORT/TORA_HOST change that). Installs npm packages and builds the
# server, the web app and the Python client's wheel only when their sources changed since the
# last time, so a start with nothing changed takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

# First, before minutes of work: is the port free?
node scripts/port-free.mjs "${TORA_HOST:-127.0.0.1}" "${TORA_PORT:-8080}"

# stale OUTPUT INPUT...: OUTPUT is missing, or some file under the INPUTs is newer than it.
stale() {
  local output=$1
  shift
  [ ! -e "$output" ] || [ -n "$(find "$@" -newer "$output" -print -quit 2>/dev/null)" ]
}

# npm writes node_modules/.package-lock.json at every install; a dependency change always changes
# package-lock.json (npm ci refuses a package.json that disagrees with it), a script change does not.
if stale node_modules/.package-lock.json package-lock.json; then
  echo "==> installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi
if stale apps/server/dist/main.js apps/server/src apps/server/package.json apps/server/tsconfig.json apps/server/tsconfig.build.json node_modules/.package-lock.json; then
  echo "==> building the server"
  npm run build -w apps/server --silent
fi
# Sources only: running the client writes __pycache__ next to them.
if [ ! -d apps/server/dist/client ] || [ -n "$(find clients/python/src clients/python/pyproject.toml clients/python/README.md \
  \( -name '*.py' -o -name py.typed -o -name pyproject.toml -o -name README.md \) -newer apps/server/dist/client -print -quit)" ]; then
  echo "==> building the Python client wheel (served at /api/client)"
  node scripts/build-client-wheel.mjs apps/server/dist/client >/dev/null
fi
if [ -f apps/web/package.json ] &&
  stale apps/web/build/200.html apps/web/src apps/web/package.json apps/web/svelte.config.js apps/web/vite.config.ts node_modules/.package-lock.json; then
  echo "==> building the web app"
  npm run build -w apps/web --silent
fi
exec node apps/server/bin/tora.js serve
