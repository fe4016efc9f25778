// Real gVisor sandboxes for the e2e suites: a short temp dir (socket paths stay
// far below 108 bytes), `runsc run --detach` per container, kill -9 of a
// sandbox process, and a cleanup that deletes every container it started, in
// parallel, from afterAll and again from a process exit hook.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { addExitHook } from '../exit-hooks.js';
import { requireTool } from '../require-tool.js';
import { type ContainerConfig, makeBaseBundle, makeContainerBundle } from './bundle.js';
import { becomeSubreaper, reapSandboxOrphans, startReaping } from './reaper.js';
import { type RealStateFile, readStateFile, stateFilePath } from './state-file.js';

export interface ContainerSpec extends ContainerConfig {
  id: string;
  /** --metric-server at create time; undefined = flag not given. */
  metricServer?: string;
  /** TZ of the runsc process (createdAt is written in its local zone). */
  tz?: string;
}

export interface StartedContainer {
  id: string;
  sandboxId: string;
  state: RealStateFile;
}

type Json = Record<string, unknown>;

/** What `runsc events --stats` prints (runsc/boot/events.go's Event; fields omitted when zero). */
export interface RunscStatsEvent {
  type: string;
  id: string;
  data: {
    cpu: { usage: { total?: number } };
    memory: { usage: { limit: number; usage?: number } };
    pids: { current?: number };
    network_interfaces: RunscInterface[] | null;
  };
}

export interface RunscInterface {
  Name: string;
  RxBytes: number;
  RxPackets: number;
  RxErrors: number;
  RxDropped: number;
  TxBytes: number;
  TxPackets: number;
  TxErrors: number;
  TxDropped: number;
}

/** Fixed-width IDs that are never prefixes of each other: <prefix>01, <prefix>02, ... */
export function fixedWidthIds(prefix: string, n: number): string[] {
  const width = Math.max(2, String(n).length);
  return Array.from({ length: n }, (_, i) => `${prefix}${String(i + 1).padStart(width, '0')}`);
}

export class RealRunsc {
  /** Containers started and not yet deleted; owned by run()/deleteForce(). Subcontainers map to their sandbox. */
  private readonly live = new Map<string, string>();
  private readonly removeHook: () => void;
  /** Stops the zombie-reaping timer (runsc delete waits for the processes it killed to vanish). */
  private readonly stopReaping: () => void;
  private closed = false;

  private constructor(
    readonly base: string,
    readonly root: string,
    private readonly template: Json,
  ) {
    this.removeHook = addExitHook(() => this.cleanupSync());
    this.stopReaping = startReaping();
  }

  /** Checks root/runsc/busybox (fails loudly), makes /tmp/rsXXXXXX with root/ and the base bundle. */
  static async create(): Promise<RealRunsc> {
    requireTool('root');
    requireTool('runsc');
    requireTool('busybox');
    becomeSubreaper();
    const base = mkdtempSync('/tmp/rs');
    const root = join(base, 'root');
    const template = await makeBaseBundle(base);
    return new RealRunsc(base, root, template);
  }

  private globalFlags(metricServer: string | undefined): string[] {
    const f = [`--root=${this.root}`, '--network=none'];
    if (metricServer !== undefined) f.push(`--metric-server=${metricServer}`);
    return f;
  }

  /** `runsc run --detach`; resolves with the state file once runsc has exited. */
  run(spec: ContainerSpec): Promise<StartedContainer> {
    return this.launch('run', spec);
  }

  /** `runsc create` only: the sandbox boots and stays `created` (it still answers metric calls). */
  create(spec: ContainerSpec): Promise<StartedContainer> {
    return this.launch('create', spec);
  }

  private async launch(verb: 'run' | 'create', spec: ContainerSpec): Promise<StartedContainer> {
    if (this.closed) throw new Error('RealRunsc already cleaned up');
    const bundle = makeContainerBundle(this.base, this.template, spec.id, spec);
    const sandboxId = spec.subcontainerOf ?? spec.id;
    const log = join(this.base, `${verb}-${spec.id}.log`);
    // A file, not a pipe: the detached sandbox inherits the fds and would hold a pipe open forever.
    const fd = openSync(log, 'w');
    this.live.set(spec.id, sandboxId);
    let code: number | null;
    try {
      code = await new Promise<number | null>((resolve, reject) => {
        const args = verb === 'run' ? ['run', '--detach'] : ['create'];
        const c = spawn('runsc', [...this.globalFlags(spec.metricServer), ...args, '--bundle', bundle, spec.id], {
          stdio: ['ignore', fd, fd],
          env: spec.tz ? { ...process.env, TZ: spec.tz } : process.env,
        });
        c.once('error', reject);
        c.once('exit', resolve);
      });
    } finally {
      closeSync(fd);
    }
    if (code !== 0) {
      throw new Error(`runsc ${verb} ${spec.id} exited ${code}: ${readFileSync(log, 'utf8').slice(-2000)}`);
    }
    return { id: spec.id, sandboxId, state: readStateFile(this.root, spec.id, sandboxId) };
  }

  state(containerId: string): RealStateFile {
    const sandboxId = this.live.get(containerId) ?? containerId;
    return readStateFile(this.root, containerId, sandboxId);
  }

  /** SIGKILLs the sandbox process (the state file keeps saying running) and waits until it is reaped. */
  async kill9(sandboxId: string, timeoutMs = 10_000): Promise<number> {
    const pid = this.state(sandboxId).sandbox?.pid;
    if (!pid) throw new Error(`sandbox ${sandboxId} has no pid in its state file`);
    process.kill(pid, 'SIGKILL');
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      reapSandboxOrphans();
      // Gone from the process table, not merely a zombie: a metric server's kill(pid, 0) must fail.
      if (!pidExists(pid)) return pid;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`sandbox ${sandboxId} (pid ${pid}) still alive ${timeoutMs} ms after SIGKILL`);
  }

  /** `runsc export-metrics [flags] <id>` as the real CLI prints it (e.g. --sandbox-metrics-filter=^fs_). */
  exportMetrics(containerId: string, flags: string[] = []): string {
    const r = spawnSync('runsc', [`--root=${this.root}`, 'export-metrics', ...flags, containerId], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    if (r.status !== 0) throw new Error(`runsc export-metrics ${containerId} exited ${r.status}: ${r.stderr}`);
    // The CLI appends a human line ("Wrote N bytes ...") after the exposition.
    return r.stdout.replace(/^Wrote \d+ bytes.*\n?/m, '');
  }

  /** `runsc events --stats <id>`: the one stats event the CLI prints (cpu.usage.total filled in by the CLI). */
  eventsStats(containerId: string): RunscStatsEvent {
    const r = spawnSync('runsc', [`--root=${this.root}`, 'events', '--stats', containerId], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    if (r.status !== 0) throw new Error(`runsc events --stats ${containerId} exited ${r.status}: ${r.stderr}`);
    return JSON.parse(r.stdout) as RunscStatsEvent;
  }

  /**
   * `runsc delete -force` of the given containers in parallel, subcontainers first. A subcontainer of
   * a dead sandbox cannot be deleted on its own (runsc cannot reach the sandbox); deleting the root
   * container removes its files, so a container whose state file is gone counts as deleted.
   */
  async deleteForce(ids: readonly string[]): Promise<void> {
    const subs = ids.filter((id) => this.live.get(id) !== id);
    const roots = ids.filter((id) => this.live.get(id) === id);
    for (const group of [subs, roots]) {
      await Promise.all(group.map((id) => runscDelete(this.root, id)));
    }
    const errors: string[] = [];
    for (const id of ids) {
      const sandboxId = this.live.get(id);
      if (sandboxId === undefined) continue;
      if (existsSync(stateFilePath(this.root, id, sandboxId))) errors.push(id);
      else this.live.delete(id);
    }
    if (errors.length > 0) throw new Error(`runsc delete -force left the state files of ${errors.join(', ')}`);
  }

  /** Deletes every container still alive, then the temp dir. Safe to call twice. */
  async cleanup(): Promise<void> {
    if (this.closed) return;
    try {
      await this.deleteForce([...this.live.keys()]);
    } finally {
      this.closed = true;
      this.cleanupSync();
      this.removeHook();
      this.stopReaping();
    }
  }

  /** Synchronous last resort (process exit): delete -force each, then remove the dir. */
  private cleanupSync(): void {
    // The event loop (and so the reaping timer) is blocked here: kill and reap the sandbox and gofer
    // first, or runsc delete would wait for zombies that only this process can reap.
    for (const [id, sandboxId] of this.live) {
      if (id !== sandboxId) continue;
      try {
        const st = this.state(id) as RealStateFile & { goferPid?: number };
        for (const pid of [st.sandbox?.pid, st.goferPid]) if (pid) process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    const until = Date.now() + 2_000;
    while (Date.now() < until && reapSandboxOrphans() > 0) spawnSync('sleep', ['0.05']);
    for (const [id] of [...this.live].sort(([a, sa], [b, sb]) => Number(a === sa) - Number(b === sb))) {
      spawnSync('runsc', [`--root=${this.root}`, 'delete', '-force', id], { stdio: 'ignore', timeout: 10_000 });
      this.live.delete(id);
    }
    if (this.live.size === 0) rmSync(this.base, { recursive: true, force: true });
  }
}

function runscDelete(root: string, id: string): Promise<number | null> {
  return new Promise((resolve) => {
    const c = spawn('runsc', [`--root=${root}`, 'delete', '-force', id], { stdio: 'ignore' });
    c.once('error', () => resolve(null));
    c.once('exit', resolve);
  });
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** kill(pid, 0) plus a zombie check: an unreaped sandbox must not count as alive here. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
