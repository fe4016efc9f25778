#!/usr/bin/env bash
# Runs pnpm 10, installing it with npm first when it is missing (corepack is not
# used: it fails on registry signatures on some machines; pnpm 11 needs Node 22).
set -euo pipefail
export TURBO_TELEMETRY_DISABLED=1
if ! command -v pnpm >/dev/null 2>&1 || [[ "$(pnpm --version 2>/dev/null)" != 10.* ]]; then
  echo "pnpm 10 not found: installing it with npm (npm i -g pnpm@10)" >&2
  npm i -g pnpm@10 >/dev/null 2>&1 || { echo "could not install pnpm 10 with npm; install it: npm i -g pnpm@10" >&2; exit 1; }
fi
exec pnpm "$@"
