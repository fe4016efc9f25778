#!/usr/bin/env bash
# The README's test commands. `all`: install, build, start what the suites need
# (system packages, dockerd), run every vitest project. `unit`: the same without
# the e2e project and dockerd. Both write .test-results/vitest.json, which
# scripts/summarize-tests.mjs turns into the closing `N passed, N failed` line.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-all}
export TURBO_TELEMETRY_DISABLED=1
bash scripts/with-pnpm.sh install --frozen-lockfile --reporter=append-only
bash scripts/install-system-deps.sh
if [ "$mode" = all ]; then bash scripts/start-dockerd.sh; fi
bash scripts/with-pnpm.sh turbo build --output-logs=errors-only
mkdir -p .test-results
rm -f .test-results/vitest.json
projects=()
if [ "$mode" = unit ]; then projects=(--project prom-format --project core --project fake-sandbox --project server); fi
set +e
bash scripts/with-pnpm.sh exec vitest run "${projects[@]}" --reporter=default --reporter=json \
  --outputFile.json=.test-results/vitest.json
rc=$?
set -e
# Biome (format + lint) and tsc over the whole repo: a red lint is a red run.
if ! bash scripts/with-pnpm.sh turbo lint --output-logs=errors-only; then
  echo "lint failed: pnpm turbo lint (biome check, tsc) reports errors"
  rc=1
fi
node scripts/summarize-tests.mjs .test-results/vitest.json || rc=1
exit $rc
