// The narrow filesystem surface discovery needs, so its logic runs on memfs in
// unit tests and on node:fs in production. Locking is not here: flock needs a
// real file descriptor (see ../lock).
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import * as fsp from 'node:fs/promises';

/** What discovery compares to decide whether a state file changed (see registry's stat cache). */
export interface FileStat {
  /** Modification time in nanoseconds since the epoch (bigint: ns do not fit a double). */
  readonly mtimeNs: bigint;
  readonly size: number;
  readonly dev: bigint;
  readonly ino: bigint;
  readonly isFile: boolean;
}

export interface DiscoveryFs {
  /** Entry names of a directory (no `.`/`..`), in any order. Rejects with the Node errno error. */
  readdir(path: string): Promise<string[]>;
  stat(path: string): Promise<FileStat>;
  /**
   * Optional synchronous stat: undefined when nothing is at `path`; throws other errors.
   * Discovery stats every served sandbox's state file on every pass: 1000 synchronous
   * stats take ~2.5 ms, as many promises ~10 ms of CPU with a thread-pool trip each.
   */
  statSync?(path: string): FileStat | undefined;
  readFile(path: string): Promise<Uint8Array>;
  /**
   * Optional synchronous read, used for state files under their lock: a 50 KB file from
   * the page cache reads in ~20 µs, where the promise API costs four thread-pool trips
   * (open, fstat, read, close), ~0.2 ms of CPU per file when 1000 load at start-up. With
   * `scratch`, the bytes are read into it (or into a bigger buffer when they do not fit)
   * and the result is a view of that: 1000 files at start-up no longer make 50 MB of
   * buffers for the GC. See lock/read-locked.ts for who owns the scratch buffer.
   */
  readFileSync?(path: string, scratch?: Buffer): Uint8Array;
}

/** The shape of a bigint `Stats` object, satisfied by node:fs and memfs alike. */
interface BigIntStatsLike {
  readonly mtimeNs?: bigint;
  readonly mtimeMs: bigint | number;
  readonly size: bigint | number;
  readonly dev: bigint | number;
  readonly ino: bigint | number;
  isFile(): boolean;
}

/** Converts a bigint stats object (node:fs or memfs) to our `FileStat`. */
export function toFileStat(s: BigIntStatsLike): FileStat {
  // memfs has no mtimeNs; its ms resolution is all it can offer.
  const mtimeNs = s.mtimeNs ?? BigInt(Math.trunc(Number(s.mtimeMs) * 1e6));
  return {
    mtimeNs,
    size: Number(s.size),
    dev: BigInt(s.dev),
    ino: BigInt(s.ino),
    isFile: s.isFile(),
  };
}

/** The subset of `fs.promises` that both node:fs and memfs's `createFsFromVolume(vol).promises` provide. */
export interface PromisesFsLike {
  readdir(path: string): Promise<unknown[]>;
  stat(path: string, opts: { bigint: true }): Promise<unknown>;
  readFile(path: string): Promise<unknown>;
}

/** Adapts any node-like `fs.promises` object (node:fs, memfs) to `DiscoveryFs`. */
export function discoveryFsFrom(p: PromisesFsLike): DiscoveryFs {
  return {
    async readdir(path) {
      const names = await p.readdir(path);
      return names.map((n) => String(n));
    },
    async stat(path) {
      return toFileStat((await p.stat(path, { bigint: true })) as BigIntStatsLike);
    },
    async readFile(path) {
      const data = await p.readFile(path);
      if (data instanceof Uint8Array) return data;
      return new TextEncoder().encode(String(data));
    },
  };
}

/** Production filesystem: node:fs with bigint stats (nanosecond mtimes). */
export const nodeFs: DiscoveryFs = {
  ...discoveryFsFrom(fsp as unknown as PromisesFsLike),
  statSync(path) {
    const st = statSync(path, { bigint: true, throwIfNoEntry: false });
    return st === undefined ? undefined : toFileStat(st);
  },
  readFileSync(path, scratch) {
    if (scratch === undefined) return readFileSync(path);
    const fd = openSync(path, 'r');
    try {
      let buf = scratch;
      let n = 0;
      for (;;) {
        if (n === buf.length) {
          const bigger = Buffer.allocUnsafe(buf.length * 2);
          buf.copy(bigger, 0, 0, n);
          buf = bigger;
        }
        const got = readSync(fd, buf, n, buf.length - n, null);
        if (got === 0) return buf.subarray(0, n);
        n += got;
      }
    } finally {
      closeSync(fd);
    }
  },
};
