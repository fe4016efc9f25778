// The metric servers under test: ours (the built runsc-metric-server bin, run
// by this node so --cpu-prof works) and, with RUNSC_METRIC_SERVER, theirs (a
// binary taking runsc's flags, e.g. runsc itself).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, type ServerSpec } from './children.js';
import { PER_SANDBOX_TIMEOUT_MS } from './matrix.js';

export interface ServerKind {
  readonly name: string;
  /** Its per-sandbox deadline: the stalled-scenario target is this + 100 ms. */
  readonly perSandboxTimeoutMs: number;
  spec(root: string, address: string, logFile: string, cpuProfDir?: string): ServerSpec;
}

export function ours(bin: string): ServerKind {
  return {
    name: 'ours',
    perSandboxTimeoutMs: PER_SANDBOX_TIMEOUT_MS,
    spec: (root, address, logFile, cpuProfDir) => ({
      command: process.execPath,
      args: [
        ...shippedNodeFlags(),
        ...nodeFlags(),
        ...(cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : []),
        bin,
        `--root=${root}`,
        `--metric-server=${address}`,
        `--per-sandbox-timeout=${PER_SANDBOX_TIMEOUT_MS}ms`,
        'metric-server',
      ],
      address,
      logFile,
    }),
  };
}

/** runsc's own metric server: fixed 8 s per-sandbox floor (spec §5.6), 8 sandboxes at once. */
export function theirs(binary: string): ServerKind {
  return {
    name: 'theirs',
    perSandboxTimeoutMs: 8000,
    spec: (root, address, logFile) => ({
      command: binary,
      args: [`--root=${root}`, `--metric-server=${address}`, 'metric-server'],
      address,
      logFile,
    }),
  };
}

/**
 * The node flags the server image sets (`ENV NODE_OPTIONS=` in deploy/Dockerfile), so the
 * bench measures ours as shipped; read from there so the two cannot drift apart.
 */
export function shippedNodeFlags(): string[] {
  const dockerfile = readFileSync(join(REPO_ROOT, 'deploy', 'Dockerfile'), 'utf8');
  const m = /^ENV NODE_OPTIONS="([^"]*)"$/m.exec(dockerfile);
  return m ? m[1]!.split(/\s+/).filter((f) => f !== '') : [];
}

/** BENCH_NODE_FLAGS="--max-semi-space-size=16 ...": extra node flags for our server (experiments). */
function nodeFlags(): string[] {
  return (process.env.BENCH_NODE_FLAGS ?? '').split(/\s+/).filter((f) => f !== '');
}
