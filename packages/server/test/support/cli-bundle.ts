// Bundles src/bin.ts with esbuild (the workspace's own) so CLI tests spawn the
// current source without depending on a prior `turbo build`. The bundle lives
// under this package's node_modules so its npm dependencies resolve from it.

import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const pkg = fileURLToPath(new URL('../../', import.meta.url));
const repo = fileURLToPath(new URL('../../../../', import.meta.url));
let built: string | undefined;

export function cliBundle(): string {
  if (built) return built;
  const outDir = `${pkg}node_modules/.cache/test-cli`;
  mkdirSync(outDir, { recursive: true });
  // Bundles of earlier runs (one per worker pid) are dropped after an hour.
  for (const f of readdirSync(outDir)) {
    const path = `${outDir}/${f}`;
    if (Date.now() - statSync(path).mtimeMs > 3_600_000) rmSync(path, { force: true });
  }
  const out = `${outDir}/bin-${process.pid}.mjs`;
  const res = spawnSync(
    `${repo}node_modules/.bin/esbuild`,
    [
      `${pkg}src/bin.ts`,
      '--bundle',
      '--platform=node',
      '--format=esm',
      '--target=node20',
      `--alias:@org/metricserver-core=${repo}packages/core/src/index.ts`,
      `--alias:@org/metricserver-prom-format=${repo}packages/prom-format/src/index.ts`,
      '--external:koffi',
      '--external:re2js',
      '--external:yaml',
      '--external:bcryptjs',
      `--outfile=${out}`,
      '--log-level=error',
    ],
    { encoding: 'utf8' },
  );
  if (res.status !== 0) throw new Error(`esbuild failed: ${res.error?.message ?? ''}${res.stderr}`);
  built = out;
  return out;
}
