// The port between scrape orchestration and the runsc side. The production
// implementation (core-backend.ts) wraps core's SandboxRegistry; tests can
// substitute their own to pin down timing and ordering.

import type { CallCut, ContainerEvent, Re2Filter, SandboxContainer, Uint64 } from '@org/metricserver-core';
import type { Labels, SnapshotPoints, Timestamp } from '@org/metricserver-prom-format';

/** What a loaded sandbox contributes to the meta metrics; immutable. */
export interface SandboxMeta {
  /** `sandbox_metadata` labels, verbatim (empty values kept). */
  readonly metricMetadata: Labels;
  /** Trimmed capability names (`NET_RAW`), ascending by number. */
  readonly capabilities: readonly string[];
  /** `spec_metadata` labels (hasuid0, ociversion, ...). */
  readonly specMetadata: Labels;
  readonly creationTimeSeconds: number;
}

export interface ScrapeTarget {
  readonly id: string;
  /** Extra labels on every series of this sandbox (sandbox, iteration, pod_name, namespace_name). */
  readonly labels: Labels;
  /** undefined when the sandbox could not be loaded: then it is "not running" and never queried. */
  readonly meta: SandboxMeta | undefined;
  /**
   * Exports the sandbox's metrics, re-checks the filter on the names returned, verifies
   * them and hands the verified points to `render`, once (see reply.ts: the points are
   * valid only during that call). Rejects with an operator-readable error, having
   * rendered nothing. The caller serialises calls per target.
   */
  exportInto(
    filter: string,
    matcher: Re2Filter | undefined,
    cut: CallCut,
    render: (points: SnapshotPoints) => void,
  ): Promise<unknown>;
  /**
   * True when exportInto() itself rejects as soon as `cut` is cut (it registers with
   * the cut synchronously): the scrape then need not race each call against the cut.
   */
  readonly settlesOnCut?: boolean;
  /**
   * Asks every container of the sandbox for its resource usage (`--resource-metrics`), on the
   * same connection right after a verified export, under the same cut; resolves with what the
   * resource verifier accepted, or rejects with an operator-readable error (a urpc error, a
   * VerificationError). Optional: a backend without it serves no resource data.
   */
  collectResources?(cut: CallCut): Promise<ResourceUsage>;
  /** Liveness of the sandbox process (kill(pid, 0)), asked after the query. */
  isRunning(): boolean;
}

/** One scrape's verified resource usage of a sandbox's containers (`--resource-metrics`). */
export interface ResourceUsage {
  /** When the replies were read. */
  readonly when: Timestamp;
  /** The containers asked, and for each (same index) its reply and the CPU to serve (ns, never falling). */
  readonly containers: readonly SandboxContainer[];
  readonly events: readonly ContainerEvent[];
  readonly cpuNs: readonly Uint64[];
}

/** Where a backend learns of changes in the root directory (the inotify watch, watch.ts). */
export interface RootChanges {
  /**
   * Changes of the root seen so far; undefined while nothing watches it. Equal counts
   * before and after a pass's listing mean no state file changed in between.
   */
  changeCount(): number | undefined;
}

export interface ScrapeBackend {
  /**
   * One discovery pass; concurrent calls join the running one. Never rejects. `onAdded`
   * hears of each sandbox the pass (or the pass it waits for) starts serving, as soon as
   * it is loaded: the scrape queries it at once instead of after the whole pass.
   */
  refresh(onAdded?: (target: ScrapeTarget) => void): Promise<void>;
  /** The served sandboxes, as an array snapshot (the caller may reorder it). */
  targets(): ScrapeTarget[];
  /**
   * A discovery pass that starts no earlier than this call (instant discovery: a change seen
   * in the root directory may postdate a running pass). Optional: without it the watcher runs
   * refresh() twice. Never rejects.
   */
  rediscover?(): Promise<{ readonly busy: number }>;
  /**
   * The root's change source, once the watch exists. While it reports no change since a
   * complete pass (nothing busy), refresh() only checks the served sandboxes' processes.
   * Optional: without it every refresh() is a whole pass.
   */
  useRootChanges?(source: RootChanges): void;
  /** `num_sandboxes_total`: sandboxes ever registered by discovery. */
  totalSandboxes(): number;
  /** Stops discovery (shutdown): later refresh() calls do nothing; the known sandboxes stay served. */
  stop(): void;
  /** Releases everything, after the last request finished. */
  close?(): Promise<void>;
}
