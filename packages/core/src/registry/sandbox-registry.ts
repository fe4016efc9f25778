// The served-sandbox map and the discovery pass (metric-server.md §6.3/§6.4), with our
// improvements: exact-id loading, locked files retried rather than dropped, reload of a
// served sandbox whose root state file changed.

import { errorText } from '../discovery/errors.js';
import type { ContainerState } from '../discovery/index.js';
import {
  addressMatches,
  type ContainerFile,
  isProcessAlive,
  listStateFiles,
  RootDirError,
  StateFileError,
  StateFileMissingError,
} from '../discovery/index.js';
import { type DiscoveryFs, type FileStat, nodeFs } from '../fs/index.js';
import { flockLocker, LockBusyError, type StateLocker, statePath } from '../lock/index.js';
import { loadContainerState, loadSandbox, type SandboxView } from '../sandbox/index.js';
import { forEachLimit } from './limit.js';
import { type Logger, silentLogger } from './logger.js';
import { sameFileVersion } from './stat-key.js';

export interface SandboxRegistryOptions<T> {
  /** The `--root` directory, as given (also used for `%RUNTIME_ROOT%`). */
  readonly root: string;
  /** This server's `--metric-server` address. */
  readonly serverAddress: string;
  readonly fs?: DiscoveryFs;
  readonly locker?: StateLocker;
  readonly isAlive?: (pid: number) => boolean;
  readonly log?: Logger;
  /** Builds the per-sandbox state (the server: `view => new Verifier(view.registration)`); a throw is a load error. */
  readonly prepare: (view: SandboxView) => T;
  /** Called when a served sandbox is dropped or replaced (optional cleanup). */
  readonly release?: (state: T, view: SandboxView) => void;
  /** State files loaded concurrently per pass (runsc: 8). */
  readonly concurrency?: number;
}

export interface ServedSandbox<T> {
  readonly id: string;
  readonly view: SandboxView;
  readonly state: T;
  /** Stat of the root state file the view was loaded from. */
  readonly rootStat: FileStat;
}

export interface RefreshOutcome {
  /** False when the root directory could not be listed (gone or unreadable): nothing else was done. */
  readonly rootListed: boolean;
  readonly rootError?: RootDirError;
  /** True when the registry is closed and the pass was skipped. */
  readonly skipped: boolean;
  readonly added: readonly string[];
  readonly removed: readonly string[];
  /** Sandboxes whose state file was locked (being created/changed): retried on the next pass. */
  readonly busy: readonly string[];
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends readonly (infer U)[] ? U[] : T[K] };

export class SandboxRegistry<T> {
  private readonly root: string;
  private readonly serverAddress: string;
  private readonly fs: DiscoveryFs;
  private readonly locker: StateLocker;
  private readonly isAlive: (pid: number) => boolean;
  private readonly log: Logger;
  private readonly prepare: (view: SandboxView) => T;
  private readonly releaseState: ((state: T, view: SandboxView) => void) | undefined;
  private readonly concurrency: number;

  // All mutable state below is written only inside the pass owned by `inflight`.
  private readonly entries = new Map<string, ServedSandbox<T>>();
  /** Root state files we decided not to serve, by sandbox id, until their stat changes. */
  private readonly rejected = new Map<string, FileStat>();
  private snapshot: readonly ServedSandbox<T>[] = [];
  private total = 0;
  private closed = false;
  /** The running pass; refresh() calls while it runs join it. */
  private inflight: Promise<RefreshOutcome> | undefined;
  /** refreshFresh()'s pass, queued behind `inflight`; cleared when it starts (one for all callers). */
  private queued: Promise<RefreshOutcome> | undefined;

  constructor(opts: SandboxRegistryOptions<T>) {
    this.root = opts.root;
    this.serverAddress = opts.serverAddress;
    this.fs = opts.fs ?? nodeFs;
    this.locker = opts.locker ?? flockLocker;
    this.isAlive = opts.isAlive ?? isProcessAlive;
    this.log = opts.log ?? silentLogger;
    this.prepare = opts.prepare;
    this.releaseState = opts.release;
    this.concurrency = opts.concurrency ?? 8;
  }

  /** Served sandboxes, sorted by id; an immutable snapshot (a later pass builds a new array). */
  served(): readonly ServedSandbox<T>[] {
    return this.snapshot;
  }

  get(id: string): ServedSandbox<T> | undefined {
    return this.entries.get(id);
  }

  /**
   * `num_sandboxes_total`: sandboxes this server decided to serve, counted once per load
   * attempt that was not merely blocked by a lock (runsc also counts failed loads).
   */
  get totalRegistered(): number {
    return this.total;
  }

  /** Runs a discovery pass, or joins the one already running. Never rejects. */
  refresh(): Promise<RefreshOutcome> {
    if (this.inflight !== undefined) return this.inflight;
    const pass = this.pass().finally(() => {
      this.inflight = undefined;
    });
    this.inflight = pass;
    return pass;
  }

  /**
   * A pass that starts no earlier than this call: joins nothing older. A change seen in the
   * root directory (inotify) may postdate the listing of a pass already running, which
   * refresh() would join; this waits for that pass, then runs (or joins) a new one.
   * Callers arriving while one is queued share it. Never rejects.
   */
  refreshFresh(): Promise<RefreshOutcome> {
    const running = this.inflight;
    if (running === undefined) return this.refresh();
    this.queued ??= running.then(() => {
      this.queued = undefined;
      return this.refresh();
    });
    return this.queued;
  }

  /**
   * The liveness step of a pass alone, for a caller that knows no state file changed since
   * a complete pass (an inotify watch saw nothing): each served sandbox whose process is
   * gone is dropped, as a pass drops it, with no listing of the root and no stat. Runs now,
   * synchronously; undefined (nothing done) while a pass is running, which owns the state.
   */
  checkLiveness(): RefreshOutcome | undefined {
    if (this.inflight !== undefined || this.queued !== undefined) return undefined;
    const out: Mutable<RefreshOutcome> = { rootListed: true, skipped: false, added: [], removed: [], busy: [] };
    if (this.closed) return { ...out, skipped: true };
    for (const entry of this.entries.values()) {
      if (this.isAlive(entry.view.pid)) continue;
      this.log.info(`Sandbox ${entry.id} is no longer running, deleting it.`, {
        sandbox: entry.id,
        pid: entry.view.pid,
      });
      this.drop(entry, out);
    }
    if (out.removed.length > 0) this.snapshot = Object.freeze(this.snapshot.filter((e) => this.entries.has(e.id)));
    return out;
  }

  /** Stops discovery (later refreshes are no-ops) after any running pass, and releases every served sandbox. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.inflight !== undefined) await this.inflight;
    for (const e of this.entries.values()) this.releaseEntry(e);
    this.entries.clear();
    this.rejected.clear();
    this.snapshot = [];
  }

  private async pass(): Promise<RefreshOutcome> {
    const out: Mutable<RefreshOutcome> = { rootListed: true, skipped: false, added: [], removed: [], busy: [] };
    if (this.closed) return { ...out, skipped: true };
    // One readdir per pass: sandbox id -> its state files (glob order), reused by every load.
    const byId = new Map<string, ContainerFile[]>();
    try {
      for (const file of await listStateFiles(this.fs, this.root)) {
        const list = byId.get(file.sandboxId);
        if (list === undefined) byId.set(file.sandboxId, [file]);
        else list.push(file);
      }
    } catch (e) {
      const err = e instanceof RootDirError ? e : new RootDirError(this.root, e);
      this.log.warn(
        `Cannot list containers in root directory ${this.root}, it has likely gone away: ${errorText(err.cause)}.`,
        {
          root: this.root,
        },
      );
      return { ...out, rootListed: false, rootError: err };
    }
    const servedIds = [...this.entries.keys()];
    await forEachLimit(servedIds, this.concurrency, (id) => this.recheckServed(id, byId, out));

    const fresh = [...byId.keys()].filter((id) => !this.entries.has(id));
    const freshSet = new Set(fresh);
    for (const id of this.rejected.keys()) if (!freshSet.has(id)) this.rejected.delete(id);
    await forEachLimit(fresh, this.concurrency, (id) => this.discover(id, byId.get(id) ?? [], out));

    this.snapshot = Object.freeze([...this.entries.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)));
    return out;
  }

  private drop(entry: ServedSandbox<T>, out: Mutable<RefreshOutcome>): void {
    this.entries.delete(entry.id);
    this.releaseEntry(entry);
    out.removed.push(entry.id);
  }

  private releaseEntry(entry: ServedSandbox<T>): void {
    try {
      this.releaseState?.(entry.state, entry.view);
    } catch (e) {
      this.log.warn(`Releasing sandbox ${entry.id} failed: ${errorText(e)}`, { sandbox: entry.id });
    }
  }

  /** Step 2 of the pass for one served sandbox: gone, changed (reload), or dead. */
  private async recheckServed(
    id: string,
    listed: ReadonlyMap<string, readonly ContainerFile[]>,
    out: Mutable<RefreshOutcome>,
  ): Promise<void> {
    let entry = this.entries.get(id);
    if (entry === undefined) return;
    const files = listed.get(id);
    if (files === undefined) {
      this.log.warn(`Sandbox ${id} no longer exists but did not explicitly unregister. Removing it.`, { sandbox: id });
      this.drop(entry, out);
      return;
    }
    let stat: FileStat | undefined;
    try {
      const path = statePath(this.root, id, id);
      stat = this.fs.statSync !== undefined ? this.fs.statSync(path) : await this.fs.stat(path);
    } catch {
      stat = undefined; // being deleted: the liveness check below decides
    }
    if (stat !== undefined && !sameFileVersion(stat, entry.rootStat)) {
      const reloaded = await this.reload(entry, stat, files, out);
      if (reloaded === undefined) return; // dropped
      entry = reloaded;
    }
    if (!this.isAlive(entry.view.pid)) {
      this.log.info(`Sandbox ${id} is no longer running, deleting it.`, { sandbox: id, pid: entry.view.pid });
      this.drop(entry, out);
    }
  }

  /**
   * The root state file of a served sandbox changed (runsc start/pause rewrite it, or the id
   * was reused by a new sandbox). Reload the view; a new iteration gets fresh state.
   */
  private async reload(
    entry: ServedSandbox<T>,
    stat: FileStat,
    files: readonly ContainerFile[],
    out: Mutable<RefreshOutcome>,
  ): Promise<ServedSandbox<T> | undefined> {
    const id = entry.id;
    let view: SandboxView;
    try {
      view = await this.load(id, files);
    } catch (e) {
      if (e instanceof LockBusyError || e instanceof RootDirError) {
        out.busy.push(id); // transient: keep serving the old view, retry next pass
        return entry;
      }
      this.log.warn(`Sandbox ${id} cannot be loaded, deleting it: ${errorText(e)}`, { sandbox: id });
      this.drop(entry, out);
      return undefined;
    }
    if (view.labels.iteration === entry.view.labels.iteration) {
      const updated: ServedSandbox<T> = { id, view, state: entry.state, rootStat: stat };
      this.entries.set(id, updated);
      return updated;
    }
    // Same id, different creation time: a new sandbox replaced the old one between passes.
    this.drop(entry, out);
    this.total++;
    let state: T;
    try {
      state = this.prepare(view);
    } catch (e) {
      this.log.warn(`Sandbox ${id} cannot be loaded, deleting it: ${errorText(e)}`, { sandbox: id });
      return undefined;
    }
    const fresh: ServedSandbox<T> = { id, view, state, rootStat: stat };
    this.entries.set(id, fresh);
    out.added.push(id);
    this.log.info(`Registered new sandbox found in root directory: ${JSON.stringify(id)}`, { sandbox: id });
    return fresh;
  }

  /** Step 4 of the pass for one sandbox id not currently served (`rootState`: already read in this pass). */
  private load(id: string, containerFiles: readonly ContainerFile[], rootState?: ContainerState): Promise<SandboxView> {
    return loadSandbox(this.root, id, {
      fs: this.fs,
      locker: this.locker,
      serverAddress: this.serverAddress,
      containerFiles,
      rootState,
    });
  }

  private async discover(id: string, files: readonly ContainerFile[], out: Mutable<RefreshOutcome>): Promise<void> {
    const q = JSON.stringify(id);
    let stat: FileStat;
    try {
      const path = statePath(this.root, id, id);
      const sync = this.fs.statSync?.(path);
      // statSync's "nothing there" is the error the promise API would have given.
      stat = sync ?? (this.fs.statSync !== undefined ? missing(path) : await this.fs.stat(path));
    } catch (e) {
      this.log.warn(`Failed to stat() container state file for sandbox ${q}: ${errorText(e)}`, { sandbox: id });
      return;
    }
    const seen = this.rejected.get(id);
    if (seen !== undefined) {
      if (sameFileVersion(seen, stat)) return;
      this.log.info(`State file for sandbox ${q} has changed since we last looked at it; will try to reload it.`, {
        sandbox: id,
      });
      this.rejected.delete(id);
    }

    let rootState: ContainerState | undefined;
    try {
      rootState = await loadContainerState(this.root, id, id, { fs: this.fs, locker: this.locker });
      if (rootState === undefined) return; // deleted since the stat: gone next pass
      if (rootState.sandbox === null || rootState.sandbox.id !== rootState.id) {
        throw new StateFileError(rootState.fileName, '$.sandbox.id', `container ${q} is not the root of its sandbox`);
      }
    } catch (e) {
      if (e instanceof LockBusyError) {
        out.busy.push(id); // normal while runsc creates the sandbox: no log, no stat cached
        return;
      }
      this.log.warn(`Cannot load state file for sandbox ${q}: ${errorText(e)}`, { sandbox: id });
      // A malformed file stays malformed until rewritten: remember it (runsc re-reads it every pass).
      if (e instanceof StateFileError) this.rejected.set(id, stat);
      return;
    }

    const sb = rootState.sandbox;
    if (!addressMatches(sb.metricServerAddress, this.serverAddress, this.root)) {
      this.rejected.set(id, stat);
      return;
    }
    // Unlike runsc we skip a dead process whatever the status says (runsc only for "running",
    // then serves and drops a pid-0 sandbox on every pass, counting it each time).
    if (!this.isAlive(sb.pid)) {
      if (rootState.status === 'running') {
        this.log.warn(`Sandbox ${q} has state file in state Running, yet it isn't actually running. Ignoring it.`, {
          sandbox: id,
        });
      } else {
        this.log.info(
          `Sandbox ${q} has state file in state ${rootState.status || 'unknown'}, but its process (pid ${sb.pid}) ` +
            `is not running. Ignoring it.`,
          {
            sandbox: id,
          },
        );
      }
      this.rejected.set(id, stat);
      return;
    }

    let view: SandboxView;
    let state: T;
    try {
      view = await this.load(id, files, rootState);
    } catch (e) {
      if (e instanceof LockBusyError || e instanceof RootDirError || e instanceof StateFileMissingError) {
        out.busy.push(id);
        return;
      }
      this.total++;
      this.log.warn(`Sandbox ${q} cannot be loaded, ignoring it: ${errorText(e)}`, { sandbox: id });
      this.rejected.set(id, stat);
      return;
    }
    this.total++;
    try {
      state = this.prepare(view);
    } catch (e) {
      this.log.warn(`Sandbox ${q} cannot be loaded, ignoring it: ${errorText(e)}`, { sandbox: id });
      this.rejected.set(id, stat);
      return;
    }
    this.entries.set(id, { id, view, state, rootStat: stat });
    out.added.push(id);
    this.log.info(`Registered new sandbox found in root directory: ${q}`, { sandbox: id });
  }
}

function missing(path: string): never {
  throw Object.assign(new Error(`ENOENT: no such file or directory, stat '${path}'`), { code: 'ENOENT' });
}
