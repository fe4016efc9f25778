// The server's own metrics (spec §5.6.1-5.6.3): per-sandbox meta series plus
// the three counts, rendered with prefix `<exporter-prefix>meta_`, and
// process_start_time_seconds, rendered with no prefix at all.
// Per sandbox per scrape: Metric objects and constant numbers are shared; only
// the label maps and Data records are allocated.

import { capabilityFilterMatches, type Re2Filter } from '@org/metricserver-core';
import {
  type Data,
  floatNumber,
  intNumber,
  type Labels,
  type Metric,
  MetricType,
  NO_LABELS,
  pointsOf,
  type Snapshot,
  type SnapshotExport,
  type Timestamp,
  type WireNumber,
  ZERO,
} from '@org/metricserver-prom-format';
import type { SandboxMeta } from './backend.js';
import type { SandboxHealth } from './health.js';

const gauge = (name: string, help: string): Metric => ({ name, type: MetricType.Gauge, help });

export const META = {
  sandboxPresence: gauge('sandbox_presence', 'Boolean metric set to 1 for each known sandbox.'),
  sandboxRunning: gauge('sandbox_running', 'Boolean metric set to 1 for each running sandbox.'),
  sandboxMetadata: gauge('sandbox_metadata', 'Key-value pairs about per-sandbox metadata.'),
  sandboxCapabilities: gauge('sandbox_capabilities', 'Linux capabilities added within containers of the sandbox.'),
  specMetadata: gauge('spec_metadata', 'Key-value pairs about OCI spec metadata.'),
  sandboxCreationTime: gauge(
    'sandbox_creation_time_seconds',
    'When the sandbox was created, as a unix timestamp in seconds.',
  ),
  numRunning: gauge('num_sandboxes_running', 'Number of sandboxes running at present.'),
  numBroken: gauge('num_sandboxes_broken_metrics', 'Number of sandboxes from which we cannot export metrics.'),
  numTotal: {
    name: 'num_sandboxes_total',
    type: MetricType.Counter,
    help: 'Counter of sandboxes that have ever been started.',
  } as Metric,
  processStart: gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.'),
  lastExportDuration: gauge(
    'sandbox_last_export_duration_seconds',

    'Time the last metrics export of the sandbox took, as seen by a scrape (waiting behind a concurrent export ' +
      'included).',
  ),
  exportFailures: {
    name: 'sandbox_export_failures',
    type: MetricType.Counter,
    help:
      'Failed metrics exports of the sandbox other than timeouts, by reason (verifier rejection code, urpc error ' +
      'kind, or other).',
  } as Metric,
  exportTimeouts: {
    name: 'sandbox_export_timeouts',
    type: MetricType.Counter,
    help: 'Metrics exports of the sandbox that missed their deadline.',
  } as Metric,
} as const;

const ONE: WireNumber = { int: 1, float: 0 };

/**
 * Merges a point's own labels with the sandbox's identity labels (runsc's
 * "external labels"). Identity labels win on a clash: runsc would emit a
 * duplicate label there, which Prometheus rejects. Frozen, like every label object
 * of the meta snapshot, so the writer renders each one's pairs once (see `mergedFor`).
 */
function withIdentity(point: Labels, identity: Labels): Labels {
  for (const _ in point) return Object.freeze({ ...point, ...identity });
  return identity;
}

/** A sandbox's merged meta label objects, made once per identity and meta (not per scrape). */
interface MergedLabels {
  readonly meta: SandboxMeta;
  readonly metadata: Labels;
  readonly spec: Labels;
  readonly capabilities: readonly Labels[]; // parallel to meta.capabilities
}

/**
 * Keyed by the identity object: a sandbox iteration's is stable across scrapes (the
 * registry's view), and so is its SandboxMeta until the view changes. Entries go with
 * their identity objects.
 */
const merged = new WeakMap<Labels, MergedLabels>();

function mergedFor(identity: Labels, meta: SandboxMeta): MergedLabels {
  let m = merged.get(identity);
  if (m === undefined || m.meta !== meta) {
    m = {
      meta,
      metadata: withIdentity(meta.metricMetadata, identity),
      spec: withIdentity(meta.specMetadata, identity),
      capabilities: meta.capabilities.map((capability) => withIdentity({ capability }, identity)),
    };
    merged.set(identity, m);
  }
  return m;
}

/** `sandbox_export_failures` label objects by identity, then reason (timed-out sandboxes have no MergedLabels). */
const reasonsByIdentity = new WeakMap<Labels, Map<string, Labels>>();

function reasonLabels(identity: Labels, reason: string): Labels {
  let reasons = reasonsByIdentity.get(identity);
  if (reasons === undefined) reasonsByIdentity.set(identity, (reasons = new Map()));
  let l = reasons.get(reason);
  if (l === undefined) reasons.set(reason, (l = withIdentity({ reason }, identity)));
  return l;
}

/**
 * Collects the meta snapshot of one scrape and hands it out in parts, a sandbox's points at
 * a time as its result comes in (flush), so it is rendered during the scrape rather than
 * after the last answer. Owned by that scrape (results are added in completion order).
 * No two of its points share a metric and label set, which it promises the builder (distinctSeries):
 * each sandbox adds one point per metric under its own identity labels (sandbox ids are unique in a root, and
 * identity keys win every merge), its capability points differ by capability (a union, each name once), its
 * failure points by reason (a map's keys), and the three totals are unlabelled points of three metrics.
 */
export class MetaSnapshotBuilder {
  /** The points added since the last flush: one array, emptied by each flush. */
  private readonly data: Data[] = [];
  /** Every part handed out is this object (the builder keeps none of it). */
  private readonly part: SnapshotExport;
  running = 0;
  broken = 0;

  constructor(
    private readonly capabilityFilter: Re2Filter | undefined,
    when: Timestamp,
    exporterPrefix: string,
  ) {
    this.part = {
      snapshot: pointsOf({ when, data: this.data }),
      exporterPrefix,
      extraLabels: NO_LABELS,
      distinctSeries: true,
    };
  }

  /** One sandbox's result: `exported` is true when its snapshot passed every check. */
  addSandbox(identity: Labels, meta: SandboxMeta | undefined, running: boolean, exported: boolean): void {
    const d = this.data;
    d.push({ metric: META.sandboxPresence, labels: identity, number: ONE });
    d.push({ metric: META.sandboxRunning, labels: identity, number: running ? ONE : ZERO });
    if (running) this.running++;
    if (!exported || meta === undefined) {
      if (running && meta !== undefined) this.broken++;
      return;
    }
    const m = mergedFor(identity, meta);
    d.push({ metric: META.sandboxMetadata, labels: m.metadata, number: ONE });
    const caps = meta.capabilities;
    for (let i = 0; i < caps.length; i++) {
      if (this.capabilityFilter && !capabilityFilterMatches(this.capabilityFilter, caps[i]!)) continue;
      d.push({ metric: META.sandboxCapabilities, labels: m.capabilities[i]!, number: ONE });
    }
    d.push({ metric: META.specMetadata, labels: m.spec, number: ONE });
    d.push({ metric: META.sandboxCreationTime, labels: identity, number: floatNumber(meta.creationTimeSeconds) });
  }

  /** A queried sandbox's export health. Per sandbox per scrape: 2 + reasons Data records, a label map per reason. */
  addHealth(identity: Labels, h: SandboxHealth): void {
    const d = this.data;
    d.push({
      metric: META.lastExportDuration,
      labels: identity,
      number: floatNumber((h.last?.durationMs ?? 0) / 1000),
    });
    d.push({ metric: META.exportTimeouts, labels: identity, number: intNumber(h.timeouts) });
    for (const [reason, count] of h.failuresByReason) {
      d.push({ metric: META.exportFailures, labels: reasonLabels(identity, reason), number: intNumber(count) });
    }
  }

  /** The three counts, the meta snapshot's last points (flush them as its last part). */
  finish(totalSandboxes: number): void {
    this.data.push(
      { metric: META.numRunning, labels: NO_LABELS, number: intNumber(this.running) },
      { metric: META.numBroken, labels: NO_LABELS, number: intNumber(this.broken) },
      { metric: META.numTotal, labels: NO_LABELS, number: intNumber(totalSandboxes) },
    );
  }

  /**
   * Hands the points added since the last flush to `render` as the next part of the meta
   * snapshot, then forgets them. The part is one reused object: `render` must be done with
   * it when it returns (ExpositionBuilder.addPart is).
   */
  flush(render: (part: SnapshotExport) => void): void {
    if (this.data.length === 0) return;
    render(this.part);
    this.data.length = 0;
  }
}

export function processSnapshot(startTimeSeconds: number, when: Timestamp): Snapshot {
  return { when, data: [{ metric: META.processStart, labels: NO_LABELS, number: floatNumber(startTimeSeconds) }] };
}
