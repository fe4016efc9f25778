// Helpers shared by the discovery/sandbox/registry tests: a memfs-backed DiscoveryFs and the shared
// real captures (test-support/captures).
import { createFsFromVolume, Volume } from 'memfs';
import { readCapture } from '../../../../test-support/captures.js';
import { type DiscoveryFs, discoveryFsFrom, type PromisesFsLike, toFileStat } from '../../src/fs/index.js';

/** With `syncStat`, the fs also has statSync (as node's does), so both stat paths get tested. */
export function memDiscoveryFs(
  files: Record<string, string> = {},
  opts: { syncStat?: boolean } = {},
): { fs: DiscoveryFs; vol: InstanceType<typeof Volume> } {
  const vol = Volume.fromJSON(files);
  const mfs = createFsFromVolume(vol);
  const fs = discoveryFsFrom(mfs.promises as unknown as PromisesFsLike);
  if (opts.syncStat === true) {
    fs.statSync = (path) => {
      const st = mfs.statSync(path, { bigint: true, throwIfNoEntry: false });
      return st === undefined ? undefined : toFileStat(st as unknown as Parameters<typeof toFileStat>[0]);
    };
  }
  return { fs, vol };
}

export function fixture(name: string): string {
  return readCapture(name);
}

/** Parsed fixture JSON, to derive variants of the real files. */
export function fixtureJson(name: string): Record<string, any> {
  return JSON.parse(fixture(name)) as Record<string, any>;
}

/** A locker for memfs tests: paths in `busy` are "held by runsc"; records what was locked. */
export class FakeLocker {
  readonly busy = new Set<string>();
  readonly held = new Set<string>();
  readonly taken: string[] = [];
  tryLock(lockPath: string): { release(): void } | 'locked' {
    if (this.busy.has(lockPath) || this.held.has(lockPath)) return 'locked';
    this.held.add(lockPath);
    this.taken.push(lockPath);
    return { release: () => void this.held.delete(lockPath) };
  }
}

/** A state file derived from the real sb-a capture with the given changes. */
export function stateJson(mutate: (doc: Record<string, any>) => void): string {
  const doc = fixtureJson('state-file.json');
  mutate(doc);
  return JSON.stringify(doc);
}
