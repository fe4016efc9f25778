// The metric servers under test: ours as a user runs it (the packed package's bin,
// installed by npm into an empty directory, started with no extra flags), and, with
// RUNSC_METRIC_SERVER, theirs (a binary taking runsc's flags, e.g. runsc itself).

import type { ServerSpec } from './children.js';
import { PER_SANDBOX_TIMEOUT_MS } from './matrix.js';

export interface ServerKind {
  readonly name: string;
  /** Its per-sandbox deadline: the stalled-scenario target is this + 100 ms. */
  readonly perSandboxTimeoutMs: number;
  /** Serves `/runsc-metrics/status` (ours): the cold scenario reads when every sandbox is loaded. */
  readonly hasStatus: boolean;
  spec(root: string, address: string, logFile: string, cpuProfDir?: string): ServerSpec;
}

/** An installed build of ours: the bin an operator runs, and the script it starts (for `node --cpu-prof`). */
export interface OursBuild {
  readonly bin: string;
  readonly entry: string;
  /** Extra NODE_OPTIONS (experiments and A/B variants only; a user sets none). */
  readonly nodeOptions?: string;
}

/** `flags`: subcommand flags after the bench's own (e.g. --resource-metrics). */
export function ours(build: OursBuild, name = 'ours', flags: readonly string[] = []): ServerKind {
  return {
    name,
    perSandboxTimeoutMs: PER_SANDBOX_TIMEOUT_MS,
    hasStatus: true,
    spec: (root, address, logFile, cpuProfDir) => {
      const args = [
        `--root=${root}`,
        `--metric-server=${address}`,
        `--per-sandbox-timeout=${PER_SANDBOX_TIMEOUT_MS}ms`,
        'metric-server',
        ...flags,
      ];
      const env = build.nodeOptions ? { NODE_OPTIONS: build.nodeOptions } : undefined;
      // --cpu-prof is refused in NODE_OPTIONS: the profile runs node on the bin's own script.
      if (cpuProfDir)
        return {
          command: process.execPath,
          args: ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`, build.entry, ...args],
          address,
          logFile,
          env,
        };
      return { command: build.bin, args, address, logFile, env };
    },
  };
}

/** runsc's own metric server: fixed 8 s per-sandbox floor (spec §5.6), 8 sandboxes at once. */
export function theirs(binary: string): ServerKind {
  return {
    name: 'theirs',
    perSandboxTimeoutMs: 8000,
    hasStatus: false,
    spec: (root, address, logFile) => ({
      command: binary,
      args: [`--root=${root}`, `--metric-server=${address}`, 'metric-server'],
      address,
      logFile,
    }),
  };
}
