// An in-memory ScrapeBackend: targets whose export answers after a delay, with
// a fixed snapshot, or never. Pins timing and ordering without sockets.

import type { CallCut, Re2Filter } from '@org/metricserver-core';
import { type Labels, pointsOf, type Snapshot, type SnapshotPoints } from '@org/metricserver-prom-format';
import type { SandboxMeta, ScrapeBackend, ScrapeTarget } from '../../src/backend.js';

export interface FakeTargetOptions {
  id: string;
  /** ms before answering; 'never' stalls until aborted. */
  delayMs?: number | 'never';
  fail?: string;
  running?: boolean;
  loaded?: boolean;
  snapshot?: (n: number) => Snapshot;
  meta?: Partial<SandboxMeta>;
  labels?: Labels;
  /** Returns every metric whatever the filter (a lying sandbox). */
  ignoreFilter?: boolean;
}

export class FakeTarget implements ScrapeTarget {
  readonly labels: Labels;
  readonly meta: SandboxMeta | undefined;
  calls = 0;
  inFlight = 0;
  maxInFlight = 0;
  readonly startedAt: number[] = [];
  constructor(readonly opts: FakeTargetOptions) {
    this.labels = opts.labels ?? { sandbox: opts.id };
    this.meta =
      opts.loaded === false
        ? undefined
        : {
            metricMetadata: { version: '1' },
            capabilities: ['CHOWN', 'NET_RAW'],
            specMetadata: { hasuid0: 'true', ociversion: '1.0.2' },
            creationTimeSeconds: 1716228000.5,
            ...opts.meta,
          };
  }
  get id(): string {
    return this.opts.id;
  }
  isRunning(): boolean {
    return this.opts.running ?? true;
  }
  /** Answers after `delayMs` (or never) with its snapshot, filter applied unless it lies; renders it once. */
  async exportInto(
    filter: string,
    matcher: Re2Filter | undefined,
    cut: CallCut,
    render: (points: SnapshotPoints) => void,
  ): Promise<void> {
    this.calls++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    this.startedAt.push(Date.now());
    try {
      const delay = this.opts.delayMs ?? 0;
      await new Promise<void>((resolve, reject) => {
        const onCut = (reason: unknown): void => {
          clearTimeout(t);
          reject(reason as Error);
        };
        const t =
          delay === 'never'
            ? undefined
            : setTimeout(() => {
                cut.offCut(onCut);
                resolve();
              }, delay);
        cut.onCut(onCut);
      });
      if (this.opts.fail) throw new Error(this.opts.fail);
      let snap = this.opts.snapshot?.(this.calls) ?? defaultSnapshot(this.calls);
      // The sandbox side applies the filter (unless it lies); the server side re-checks.
      if (matcher && !this.opts.ignoreFilter)
        snap = { ...snap, data: snap.data.filter((d) => matcher.test(d.metric.name)) };
      if (matcher)
        for (const d of snap.data)
          if (!matcher.test(d.metric.name))
            throw new Error(`metric ${d.metric.name} violated the filter set in export options`);
      void filter;
      render(pointsOf(snap));
    } finally {
      this.inFlight--;
    }
  }
}

export function defaultSnapshot(n: number): Snapshot {
  const now = Date.now();
  return {
    when: { seconds: Math.floor(now / 1000), nanos: (now % 1000) * 1e6 },
    data: [
      {
        metric: { name: 'fs_opens', type: 2, help: 'Number of file opens.' },
        labels: {},
        number: { int: n, float: 0 },
      },
      {
        metric: { name: 'fs_reads', type: 2, help: 'Number of file reads.' },
        labels: {},
        number: { int: 2 * n, float: 0 },
      },
    ],
  };
}

export class FakeBackend implements ScrapeBackend {
  refreshes = 0;
  stopped = false;
  /** Order in which targets() handed targets out, per call. */
  constructor(public list: FakeTarget[] = []) {}
  async refresh(): Promise<void> {
    this.refreshes++;
  }
  targets(): ScrapeTarget[] {
    return [...this.list];
  }
  totalSandboxes(): number {
    return this.list.length;
  }
  stop(): void {
    this.stopped = true;
  }
}
