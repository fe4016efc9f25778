// The production ScrapeBackend: core's SandboxRegistry (discovery, loading,
// liveness) plus urpc export and per-sandbox verification.

import {
  type CallCut,
  type ContainerEvent,
  type Logger as CoreLogger,
  containerCpuNs,
  containerEvent,
  HostCgroupCpu,
  type HostCpuReading,
  isProcessAlive,
  needsHostCpu,
  type Re2Filter,
  type RefreshOutcome,
  ResourceVerifier,
  type SandboxContainer,
  SandboxRegistry,
  type SandboxView,
  sandboxContainers,
  snapshotDecoderFor,
  UrpcConnection,
  UrpcConnectionBudget,
  Verifier,
} from '@org/metricserver-core';
import type { CanonicalSnapshotDecoder, Labels, SnapshotPoints } from '@org/metricserver-prom-format';
import type { ResourceUsage, RootChanges, SandboxMeta, ScrapeBackend, ScrapeTarget } from './backend.js';
import { wallNow } from './clock.js';
import type { ResolvedConfig } from './config.js';
import { VerificationError } from './health.js';
import type { LogFields, Logger } from './log.js';
import { exportAndRender } from './reply.js';

/**
 * One served sandbox iteration: the registry's per-sandbox state. The object is
 * stable for the iteration (the scrape queue is keyed by it); `view` is
 * refreshed from the registry entry at every targets() call.
 */
class CoreTarget implements ScrapeTarget {
  meta: SandboxMeta;
  /**
   * The control-socket connection its exports share, kept open between scrapes (see
   * UrpcConnection). Replaced when the socket path changes, closed when the sandbox
   * stops being served; its calls run one at a time (the scrape queue is per sandbox).
   */
  private connection: UrpcConnection;
  /** `--resource-metrics` only: what collectResources asks and checks. Written by setView and by its own calls. */
  private resources: TargetResources | undefined;
  constructor(
    public view: SandboxView,
    /** This sandbox's alone: written only by its exports, one at a time (the scrape queue). */
    readonly verifier: Verifier,
    /** Shared by every sandbox of the registration (immutable). */
    readonly decoder: CanonicalSnapshotDecoder,
    private readonly maxResponseBytes: number,
    private readonly budget: UrpcConnectionBudget,
  ) {
    this.meta = metaOf(view);
    this.connection = new UrpcConnection(view.controlSocketPath, { keep: true, budget });
  }

  get id(): string {
    return this.view.id;
  }

  get labels(): Labels {
    return this.view.labels;
  }

  setView(view: SandboxView): void {
    if (view === this.view) return;
    if (view.controlSocketPath !== this.connection.socketPath) {
      this.connection.close();
      this.connection = new UrpcConnection(view.controlSocketPath, { keep: true, budget: this.budget });
    }
    this.view = view;
    this.meta = metaOf(view);
    if (this.resources !== undefined) this.resources.containers = askableContainers(view);
  }

  /** The sandbox is no longer served: its kept connection and its kept cgroup usage file go. */
  release(): void {
    this.connection.close();
    this.resources?.hostCpu.close();
  }

  /** The urpc call registers with `cut` before exportInto returns, and a cut fails the call. */
  readonly settlesOnCut = true;

  exportInto(
    filter: string,
    matcher: Re2Filter | undefined,
    cut: CallCut,
    render: (points: SnapshotPoints) => void,
  ): Promise<unknown> {
    // One promise per call (the connection's), verified and rendered inside the read.
    return exportAndRender(
      this.connection,
      this,
      { filter, matcher, cut, maxResponseBytes: this.maxResponseBytes },
      render,
    );
  }

  isRunning(): boolean {
    return isProcessAlive(this.view.pid);
  }

  /**
   * One Event call per container on the kept connection, one at a time (runsc's urpc server
   * reads one request at a time: a pipelined second request would be lost), then the host
   * cgroup read when a reply needs it, then the resource verifier. The scrape queue runs it
   * right after this sandbox's export, so it never overlaps another call of the sandbox.
   */
  async collectResources(cut: CallCut): Promise<ResourceUsage> {
    this.resources ??= {
      containers: askableContainers(this.view),
      verifier: new ResourceVerifier(),
      hostCpu: new HostCgroupCpu(this.view.pid),
    };
    const r = this.resources;
    const containers = r.containers;
    const events: ContainerEvent[] = [];
    for (const c of containers) events.push(await containerEvent(this.connection, c.id, { cut }));
    const host: HostCpuReading = needsHostCpu(events) ? await r.hostCpu.read() : HOST_CPU_NOT_NEEDED;
    const cpuNs = events.map((e) => containerCpuNs(e, host));
    const iteration = this.view.labels.iteration ?? '';
    const verdict = r.verifier.verify({ iteration, containers, events, cpuNs });
    if (!verdict.ok) throw new VerificationError(verdict.reason.message, verdict.reason.code);
    return { when: wallNow(), containers, events, cpuNs: verdict.cpuNs };
  }
}

/** What a served sandbox keeps for `--resource-metrics`. */
interface TargetResources {
  /** The containers to ask (from the view's state files). */
  containers: readonly SandboxContainer[];
  /** This sandbox's alone: written only by its own collections, one at a time (the scrape queue). */
  readonly verifier: ResourceVerifier;
  /** The sandbox's host cgroup, resolved on first use. */
  readonly hostCpu: HostCgroupCpu;
}

const HOST_CPU_NOT_NEEDED: HostCpuReading = { kind: 'none', reason: 'no reply asked for the host cgroup' };

/** runsc events answers for containers in these states (Container.Event's requireStatus). */
const ASKABLE_STATUS = new Set(['created', 'running', 'paused']);

function askableContainers(view: SandboxView): SandboxContainer[] {
  return sandboxContainers(view).filter((c) => ASKABLE_STATUS.has(c.status));
}

function metaOf(view: SandboxView): SandboxMeta {
  return {
    metricMetadata: view.metricMetadata,
    capabilities: view.capabilities,
    specMetadata: view.specMetadata as unknown as Labels,
    creationTimeSeconds: view.creationTimeSeconds,
  };
}

function coreLogger(log: Logger): CoreLogger {
  const fields = (f?: Readonly<Record<string, unknown>>): LogFields | undefined => {
    if (!f) return undefined;
    const out: Record<string, string | number | boolean> = {};
    for (const [k, v] of Object.entries(f)) {
      out[k] = typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : String(v);
    }
    return out;
  };
  return { info: (m, f) => log.info(m, fields(f)), warn: (m, f) => log.warn(m, fields(f)) };
}

export function createCoreBackend(config: ResolvedConfig, log: Logger): ScrapeBackend {
  const registry = new SandboxRegistry<CoreTarget>({
    root: config.root,
    serverAddress: config.address,
    log: coreLogger(log),
    // A registration the Verifier refuses is a load error: the sandbox is not served.
    prepare: (view) => {
      const target = new CoreTarget(
        view,
        new Verifier(view.registration),
        snapshotDecoderFor(view.registration),
        config.maxResponseBytes,
        connections,
      );
      for (const listen of addedListeners) listen(target);
      return target;
    },
  });
  /** The onAdded callbacks of refreshes in progress (a scrape's, while it waits for discovery). */
  const addedListeners = new Set<(t: CoreTarget) => void>();
  // Kept control-socket connections: at most --scrape-concurrency open, the bound the
  // sandboxes are promised, and none kept while more sandboxes are served than that.
  const connections = new UrpcConnectionBudget(config.scrapeConcurrency);
  /** The targets of the last targets() call (owned by it): those that leave release their connection. */
  let served = new Set<CoreTarget>();
  // Set by stop() (shutdown): /metrics keeps answering from the known sandboxes, as runsc does.
  let stopped = false;
  /** The inotify watch's change count (useRootChanges); undefined: every refresh is a whole pass. */
  let changes: RootChanges | undefined;
  /**
   * The change count read before the last whole pass that listed the root and found no state
   * file locked: while the watch still reports it, no state file changed since that listing.
   * Written only by wholePass, after its pass (a later pass may only lower what it covers).
   */
  let cleanAt: number | undefined;
  // A scrape must see every sandbox whose state file existed when it began: with instant
  // discovery a watcher pass is often running, and joining it could answer from a listing
  // taken before the scrape (and before the file). Concurrent scrapes still share one pass.
  const wholePass = async (): Promise<RefreshOutcome> => {
    // Read before the pass: refreshFresh() never joins a pass that started earlier, so its
    // listing comes after every change counted here.
    const seen = changes?.changeCount();
    const outcome = await registry.refreshFresh();
    cleanAt =
      seen !== undefined && outcome.rootListed && !outcome.skipped && outcome.busy.length === 0 ? seen : undefined;
    return outcome;
  };
  /** A scrape's refresh: the liveness check alone while the root watch saw no change, else a whole pass. */
  const refreshNow = async (): Promise<void> => {
    if (changes !== undefined) {
      // One turn first: an inotify event queued before this request arrived (a state file
      // written before the scrape was asked for) is counted by then (same poll phase).
      await new Promise<void>((resolve) => setImmediate(resolve));
      const seen = changes.changeCount();
      // Nothing changed in the root since a whole pass: what a pass would still find is a
      // process gone, so only that is checked (no listing, no stat per sandbox).
      if (seen !== undefined && seen === cleanAt && registry.checkLiveness() !== undefined) return;
    }
    await wholePass();
  };
  return {
    refresh: async (onAdded) => {
      if (stopped) return;
      if (onAdded === undefined) return refreshNow();
      addedListeners.add(onAdded);
      try {
        await refreshNow();
      } finally {
        addedListeners.delete(onAdded);
      }
    },
    rediscover: async () => (stopped ? { busy: 0 } : { busy: (await wholePass()).busy.length }),
    useRootChanges: (source) => {
      changes = source;
      cleanAt = undefined;
    },
    targets: () => {
      const now = new Set<CoreTarget>();
      for (const e of registry.served()) {
        e.state.setView(e.view);
        now.add(e.state);
      }
      for (const gone of served) if (!now.has(gone)) gone.release();
      served = now;
      connections.keepIdle = now.size <= connections.limit;
      return [...now];
    },
    totalSandboxes: () => registry.totalRegistered,
    stop: () => {
      stopped = true;
    },
    close: () => {
      for (const t of served) t.release();
      served.clear();
      return registry.close();
    },
  };
}
