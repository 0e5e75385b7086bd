#!/usr/bin/env bash
# Runs a test command with TMPDIR pointing at a fresh, empty directory and fails when the command
# left anything there: every suite must remove the temporary directories it makes (data dirs,
# spools, clusters), also when a test failed. Caches that are meant to outlive a run (tsx's
# compile cache) and pytest's empty base directory are not leaks, nor pip's own certificate bundle
# copy (tmp…cacert.pem, left by pip itself when test-python.sh installs the gates).
# Usage: scripts/tmp-leak-check.sh COMMAND [ARGS...]
set -uo pipefail

tmp="$(mktemp -d "${TMPDIR:-/tmp}/tora-tmpcheck-XXXXXX")"
chmod 755 "$tmp" # the test PostgreSQL cluster runs as the postgres user and must reach its dir inside
TMPDIR="$tmp" "$@"
status=$?
find "$tmp" -mindepth 1 -maxdepth 1 -name 'pytest-of-*' -type d -empty -delete
left="$(find "$tmp" -mindepth 1 -maxdepth 1 ! -name 'tsx-*' ! -name 'tmp*cacert.pem' -printf '%f\n' | sort)"
rm -rf "$tmp"
if [ -n "$left" ]; then
  echo "temporary files left behind by '$*':" >&2
  echo "$left" | sed 's/^/  /' >&2
  exit 1
fi
exit "$status"
