#!/usr/bin/env bash
# The README's `npm run demo`: install, build, then start a fake runsc fleet and
# the metric server (packages/server/scripts/demo.mjs). Extra arguments (e.g.
# --once) and DEMO_EXIT_AFTER_MS are passed through for non-interactive runs.
set -euo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1
bash scripts/with-pnpm.sh install --frozen-lockfile --reporter=append-only >/dev/null
bash scripts/with-pnpm.sh turbo build --output-logs=errors-only --filter=@org/metricserver-server... --filter=@org/metricserver-fake-sandbox >/dev/null
exec node packages/server/scripts/demo.mjs "$@"
