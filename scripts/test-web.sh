#!/usr/bin/env bash
# Web app gate: build server + web app, svelte-check and ESLint with zero errors/warnings, unit
# tests, then the browser tests (playwright-core driving Debian's Chromium against a real server). Assumes `npm ci` ran.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
  echo "== installing chromium (Debian package; playwright never downloads a browser here)"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update
  $SUDO apt-get install -y chromium
fi

# The server build is reused unless a source file is newer than it.
if [ ! -f apps/server/dist/main.js ] || [ -n "$(find apps/server/src -newer apps/server/dist/main.js -print -quit)" ]; then
  echo "== building server"
  npm run build -w apps/server
fi

echo "== API types match openapi/openapi.json (one contract: apps/web/src/lib/generated/api-types.ts is generated)"
api_types="$(mktemp)"
trap 'rm -f "$api_types"' EXIT
npm run -s api-types -w apps/web > "$api_types"
if ! diff -q "$api_types" apps/web/src/lib/generated/api-types.ts > /dev/null; then
  diff -u apps/web/src/lib/generated/api-types.ts "$api_types" | head -40 || true
  echo "apps/web/src/lib/generated/api-types.ts is stale: run 'npm run gen:api -w apps/web' and commit it" >&2
  exit 1
fi

echo "== building web app"
npm run build -w apps/web

echo "== svelte-check"
npm run check -w apps/web

echo "== eslint (type-aware, zero warnings)"
npm run lint -w apps/web

echo "== typecheck browser tests and bench"
npx tsc -p e2e/web

echo "== unit tests"
npm test -w apps/web

echo "== browser tests"
mkdir -p test-output/screenshots
node --import tsx --test --test-concurrency=1 e2e/web/*.test.ts
echo "screenshots: test-output/screenshots/"
