// The sandbox's HOST cgroup and its CPU usage: what `runsc events --stats` shares out among a
// sandbox's containers (runsc `Sandbox.NewCGroup` = `cgroup.NewFromPid(sandbox pid)`, and
// `CPUUsage`, at release-20240729.0). Resolved the way runsc resolves it:
//
// * v1 (/sys/fs/cgroup is not a cgroup2 mount): the sandbox process's `cpuacct` cgroup from
//   /proc/<pid>/cgroup, made relative to the caller's cpuacct mount root; the file is
//   /sys/fs/cgroup/cpuacct/<path>/cpuacct.usage (with no cpuacct entry, the hierarchy's root).
// * v2 only: the PARENT of the process's unified cgroup (runsc assumes the process sits in a
//   leaf below the sandbox's cgroup, as under containerd's cgroup-parent annotation); the file is
//   /sys/fs/cgroup/<parent>/cpu.stat. /sys/fs/cgroup/cgroup.controllers must be readable.
//
// Unlike runsc, which redoes this on every `events` call, it is resolved once per sandbox (a
// HostCgroupCpu per served sandbox); each scrape then reads only the usage file. Every failure
// is a value, never a throw: runsc then falls back to the sandbox's own numbers.
import { closeSync, openSync, readFileSync, readSync, statfsSync } from 'node:fs';
import type { SandboxCgroup } from '../discovery/cgroup-field.js';
import { errorText } from '../discovery/errors.js';
import { type DiscoveryFs, nodeFs } from '../fs/discovery-fs.js';
import { CGROUP2_KEY, cgroupPathsOf } from './cgroup-paths.js';
import { parseCpuacctUsage, parseCpuStatUsage } from './cpu-usage-file.js';
import { dir, join } from './go-text.js';
import type { Uint64 } from './uint64.js';

/** Where runsc expects cgroupfs (it does not look the mount up). */
export const CGROUP_ROOT = '/sys/fs/cgroup';
/** statfs f_type of a cgroup2 mount. */
const CGROUP2_SUPER_MAGIC = 0x63677270;

/** The sandbox's host cgroup as runsc would use it, or why there is none. */
export type HostCgroup =
  | {
      readonly version: 1 | 2;
      /** `cpuacct.usage` (v1, ns) or `cpu.stat` (v2, `usage_usec`). */
      readonly usageFile: string;
    }
  | { readonly version: 0; readonly reason: string };

/** One reading of a host cgroup's CPU usage, in the three cases runsc tells apart. */
export type HostCpuReading =
  | { readonly kind: 'usage'; readonly ns: Uint64 }
  /** The usage file could not be read or parsed. */
  | { readonly kind: 'error'; readonly reason: string }
  /** No cgroup could be resolved for the sandbox. */
  | { readonly kind: 'none'; readonly reason: string };

export interface HostCgroupDeps {
  /** Reads /proc/<pid>/cgroup, /proc/self/mountinfo and cgroupfs files (default: node:fs). */
  readonly fs?: Pick<DiscoveryFs, 'readFile' | 'readFileSync'>;
  /** Whether /sys/fs/cgroup is a cgroup2 mount (runsc's IsOnlyV2); default: statfs it. */
  readonly cgroupV2Only?: boolean;
}

/** runsc's IsOnlyV2: statfs(/sys/fs/cgroup) is a cgroup2 mount; false when statfs fails. */
export function isOnlyCgroupV2(): boolean {
  try {
    return statfsSync(CGROUP_ROOT).type === CGROUP2_SUPER_MAGIC;
  } catch {
    return false;
  }
}

const utf8 = new TextDecoder();

/** Resolves the host cgroup of the sandbox process `pid` as `runsc events` does. Never rejects. */
export async function resolveHostCgroup(pid: number, deps: HostCgroupDeps = {}): Promise<HostCgroup> {
  const fs = deps.fs ?? nodeFs;
  let procCgroup: string;
  let mountinfo: string;
  try {
    procCgroup = utf8.decode(await fs.readFile(`/proc/${pid}/cgroup`));
    mountinfo = utf8.decode(await fs.readFile('/proc/self/mountinfo'));
  } catch (e) {
    return { version: 0, reason: `finding current cgroups: ${errorText(e)}` };
  }
  const unified = deps.cgroupV2Only ?? isOnlyCgroupV2();
  let paths: Map<string, string>;
  try {
    paths = cgroupPathsOf(procCgroup, mountinfo, unified);
  } catch (e) {
    return { version: 0, reason: `finding current cgroups: ${errorText(e)}` };
  }
  if (unified) {
    const own = paths.get(CGROUP2_KEY);
    const path = own === undefined ? '' : dir(own);
    try {
      await fs.readFile(join(CGROUP_ROOT, 'cgroup.controllers'));
    } catch (e) {
      return { version: 0, reason: errorText(e) };
    }
    return { version: 2, usageFile: join(CGROUP_ROOT, path, 'cpu.stat') };
  }
  const cpuacct = paths.get('cpuacct') ?? '';
  return { version: 1, usageFile: join(CGROUP_ROOT, 'cpuacct', cpuacct, 'cpuacct.usage') };
}

/**
 * The usage file of the cgroup a state file's `sandbox.cgroup` names (runsc's MakePath for it),
 * for comparing with what resolveHostCgroup found: they differ when the sandbox process sits in
 * the recorded cgroup itself on a v2-only host (runsc then reads its parent) or was moved.
 */
export function stateFileCpuUsageFile(cg: SandboxCgroup): string {
  if (cg.version === 2) return join(cg.mountpoint, cg.path, 'cpu.stat');
  const parent = cg.parents['cpuacct'];
  const path = parent === undefined ? cg.name : join(parent, cg.name);
  return join(CGROUP_ROOT, 'cpuacct', path, 'cpuacct.usage');
}

/** Scratch for usage files (a few dozen bytes); reads are synchronous, so one buffer serves all. */
const scratch = Buffer.allocUnsafe(4096);

/** A usage file by open, one read, close (readFileSync adds an fstat, a second read and a buffer). */
function readUsageFileSync(path: string): Uint8Array {
  const file = new KeptFile(path);
  try {
    return file.read();
  } finally {
    file.close();
  }
}

function parseUsage(cg: { readonly version: 1 | 2 }, bytes: Uint8Array): HostCpuReading {
  try {
    const text = utf8.decode(bytes);
    return { kind: 'usage', ns: cg.version === 1 ? parseCpuacctUsage(text) : parseCpuStatUsage(text) };
  } catch (e) {
    return { kind: 'error', reason: errorText(e) };
  }
}

/** One reading of a resolved cgroup's CPU usage (synchronous when `fs` has readFileSync). Never rejects. */
export function readHostCpuUsage(
  cg: HostCgroup,
  fs: Pick<DiscoveryFs, 'readFile' | 'readFileSync'> = nodeFs,
): HostCpuReading | Promise<HostCpuReading> {
  if (cg.version === 0) return { kind: 'none', reason: cg.reason };
  if (fs.readFileSync !== undefined) {
    let bytes: Uint8Array;
    try {
      bytes = fs === nodeFs ? readUsageFileSync(cg.usageFile) : fs.readFileSync(cg.usageFile);
    } catch (e) {
      return { kind: 'error', reason: errorText(e) };
    }
    return parseUsage(cg, bytes);
  }
  return fs.readFile(cg.usageFile).then(
    (bytes) => parseUsage(cg, bytes),
    (e: unknown): HostCpuReading => ({ kind: 'error', reason: errorText(e) }),
  );
}

/**
 * One served sandbox's host cgroup CPU: resolved on first use, once (a sandbox process does not
 * change cgroups in practice; a new sandbox iteration gets a new HostCgroupCpu), then one read
 * of the usage file per `read()`.
 *
 * On the real filesystem the usage file stays open between reads, each a pread at offset 0 (a
 * seq_file read from 0 is generated afresh). Fast path: open and close were ~16 of the ~20 ms
 * per scrape the host cgroup reads took at N = 1000 (`pnpm bench --profile-resources`). The
 * owner calls close() when the sandbox stops being served; a failed read closes it too, and the
 * next read opens it again.
 */
export class HostCgroupCpu {
  private resolving: Promise<HostCgroup> | undefined;
  private resolvedValue: HostCgroup | undefined;
  private readonly fs: Pick<DiscoveryFs, 'readFile' | 'readFileSync'>;
  /** The usage file kept open (real filesystem only), once resolved. */
  private kept: KeptFile | undefined;

  constructor(
    readonly pid: number,
    private readonly deps: HostCgroupDeps = {},
  ) {
    this.fs = deps.fs ?? nodeFs;
  }

  /** The cgroup once resolved (undefined before the first read() settles). */
  get resolved(): HostCgroup | undefined {
    return this.resolvedValue;
  }

  /** Resolves (first call only) and reads the usage now. Never rejects. */
  read(): HostCpuReading | Promise<HostCpuReading> {
    const cg = this.resolvedValue;
    if (cg !== undefined) return this.readResolved(cg);
    this.resolving ??= resolveHostCgroup(this.pid, this.deps).then((r) => (this.resolvedValue = r));
    return this.resolving.then((r) => this.readResolved(r));
  }

  /** Closes the kept usage file, if open. A later read() opens it again. */
  close(): void {
    this.kept?.close();
  }

  private readResolved(cg: HostCgroup): HostCpuReading | Promise<HostCpuReading> {
    if (cg.version === 0 || this.fs !== nodeFs) return readHostCpuUsage(cg, this.fs);
    this.kept ??= new KeptFile(cg.usageFile);
    let bytes: Uint8Array;
    try {
      bytes = this.kept.read();
    } catch (e) {
      return { kind: 'error', reason: errorText(e) };
    }
    return parseUsage(cg, bytes);
  }
}

/**
 * A small file kept open and re-read from offset 0 (pread): a seq_file (procfs, cgroupfs)
 * regenerates its content for every read from 0. Opened by the first read and again after
 * close() or a failed read, which closes it. The bytes are valid until the next read.
 */
export class KeptFile {
  private fd: number | undefined;

  constructor(readonly path: string) {}

  /** The whole file now; throws the open or read error (the file is then closed). */
  read(): Uint8Array {
    let n: number;
    try {
      this.fd ??= openSync(this.path, 'r');
      n = readSync(this.fd, scratch, 0, scratch.length, 0);
    } catch (e) {
      this.close();
      throw e;
    }
    // A read fills the buffer or reaches the end: only a full one can have more.
    return n < scratch.length ? scratch.subarray(0, n) : readFileSync(this.path);
  }

  close(): void {
    const fd = this.fd;
    if (fd === undefined) return;
    this.fd = undefined;
    try {
      closeSync(fd);
    } catch {
      // nothing to do: the descriptor is gone either way
    }
  }

  get isOpen(): boolean {
    return this.fd !== undefined;
  }
}
