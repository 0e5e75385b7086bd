#!/usr/bin/env bash
# Installs, builds and starts Tora with its embedded SQLite database (data in TORA_DATA_DIR,
# default ~/.tora). Open http://127.0.0.1:8080 (TORA_PORT/TORA_HOST change that).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> installing npm packages"
npm ci --no-audit --no-fund --loglevel=error
echo "==> building the server"
npm run build -w apps/server --silent
if [ -f apps/web/package.json ]; then
  echo "==> building the web app"
  npm run build -w apps/web --silent
fi
echo "==> starting Tora"
exec node apps/server/bin/tora.js serve
