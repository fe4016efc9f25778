#!/usr/bin/env bash
# A new machine, as far as one can be had on a used one: clones a branch (default main)
# into a temporary directory and runs the README's two commands there with HOME, the
# XDG dirs, the npm cache and prefix and the pnpm store and cache all pointing at empty
# temporary directories, and no pnpm on PATH. Caches and stores hide missing install
# steps; this does not. System packages apt already installed stay (as on CI).
#
#   bash scripts/fresh-check.sh [branch]      # KEEP=1 keeps the temporary directory
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
branch=${1:-main}
tmp=$(mktemp -d /tmp/ms-fresh-XXXXXX)
cleanup() { if [ "${KEEP:-0}" = 1 ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi; }
trap cleanup EXIT

git clone --quiet --branch "$branch" --single-branch "$repo" "$tmp/repo" || exit 1
mkdir -p "$tmp"/{home,config,cache,data,state,npm-cache,npm-prefix/bin,pnpm-store,pnpm-cache,no-pnpm}
# The machine's own pnpm must not be found: this stands in front of it and says "not 10",
# so scripts/with-pnpm.sh installs pnpm 10 into the empty npm prefix, as on a new machine.
printf '#!/bin/sh\necho 0.0.0\n' >"$tmp/no-pnpm/pnpm"
chmod +x "$tmp/no-pnpm/pnpm"
export HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/config" XDG_CACHE_HOME="$tmp/cache" XDG_DATA_HOME="$tmp/data"
export XDG_STATE_HOME="$tmp/state" npm_config_cache="$tmp/npm-cache" npm_config_prefix="$tmp/npm-prefix"
export npm_config_store_dir="$tmp/pnpm-store" npm_config_cache_dir="$tmp/pnpm-cache"
export PATH="$tmp/npm-prefix/bin:$tmp/no-pnpm:$PATH"
cd "$tmp/repo" || exit 1
echo "fresh-check: $(git log --oneline -1) in $tmp/repo"

DEMO_EXIT_AFTER_MS=${DEMO_EXIT_AFTER_MS:-8000} npm run demo >"$tmp/demo.log" 2>&1
demo=$?
npm test >"$tmp/test.log" 2>&1
test=$?

echo "npm run demo: exit $demo"
grep -E 'First scrape|num_sandboxes_running' "$tmp/demo.log" | head -n 2
echo "npm test: exit $test"
grep -E '^failed: ' "$tmp/test.log" | head -n 20
tail -n 1 "$tmp/test.log"
if [ $demo -ne 0 ] || [ $test -ne 0 ]; then
  KEEP=1
  echo "fresh-check: FAILED (logs: $tmp/demo.log, $tmp/test.log)"
  exit 1
fi
echo "fresh-check: passed"
