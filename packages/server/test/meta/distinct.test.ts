// The scrape promises the builder that the meta snapshot has no series twice
// (distinctSeries), which spares its duplicate sets. The promise is checked here on a
// fleet with everything that adds meta points: metadata that names identity keys,
// capabilities (filtered and not), failure reasons, broken and not-loaded sandboxes.

import {
  ExpositionBuilder,
  type Labels,
  pointsOf,
  type Snapshot,
  type SnapshotExport,
  snapshotOf,
} from '@org/metricserver-prom-format';
import { describe, expect, it } from 'vitest';
import type { SandboxMeta } from '../../src/backend.js';
import type { SandboxHealth } from '../../src/health.js';
import { MetaSnapshotBuilder } from '../../src/meta.js';

const identity = (i: number): Labels => {
  const l: Record<string, string> = { sandbox: `sb-${i}`, iteration: `it${i}` };
  if (i % 3 !== 0) Object.assign(l, { pod_name: 'p', namespace_name: 'ns' });
  return Object.freeze(l);
};

function metaOf(i: number): SandboxMeta {
  return {
    // Sandbox-controlled keys, one of them an identity key (identity wins the merge).
    metricMetadata: Object.freeze({ sandbox: 'spoofed', version: `v${i % 2}`, empty: '' }),
    capabilities: i % 2 === 0 ? ['CHOWN', 'NET_RAW', 'SYS_PTRACE'] : ['NET_RAW'],
    specMetadata: Object.freeze({ hasuid0: String(i % 2 === 0), ociversion: '1.0.2' }),
    creationTimeSeconds: 1_700_000_000 + i,
  };
}

function health(i: number): SandboxHealth {
  const failuresByReason = new Map<string, number>(
    i % 4 === 0
      ? [
          ['verify:counter-decreased', 2],
          ['urpc:closed', 1],
        ]
      : [],
  );
  return {
    id: `sb-${i}`,
    last: { finishedAtMs: 1, durationMs: 3 + i, failure: undefined },
    exports: 5,
    failures: 3,
    timeouts: i % 5,
    failuresByReason,
  } as SandboxHealth;
}

const WHEN = { seconds: 1_700_000_100, nanos: 0 };

/** The meta snapshot of `n` sandboxes, flushed a sandbox at a time as a scrape does: its parts, in order. */
function metaParts(n: number): SnapshotExport[] {
  const meta = new MetaSnapshotBuilder(undefined, WHEN, 'runsc_meta_');
  const parts: SnapshotExport[] = [];
  // Copies: the builder hands out one reused part object.
  const keep = (p: SnapshotExport): void => {
    parts.push({ ...p, snapshot: pointsOf(snapshotOf(p.snapshot)) });
  };
  for (let i = 0; i < n; i++) {
    const loaded = i % 7 !== 6;
    meta.addSandbox(identity(i), loaded ? metaOf(i) : undefined, i % 5 !== 4, i % 3 !== 2);
    if (loaded) meta.addHealth(identity(i), health(i));
    meta.flush(keep);
  }
  meta.finish(n);
  meta.flush(keep);
  meta.flush(keep); // nothing new: no part
  return parts;
}

function metaSnapshot(n: number): Snapshot {
  return { when: WHEN, data: metaParts(n).flatMap((p) => snapshotOf(p.snapshot).data) };
}

describe('meta snapshot', () => {
  it('has no metric and label set twice', () => {
    const snap = metaSnapshot(60);
    const keys = snap.data.map((d) => `${d.metric.name} ${JSON.stringify(Object.entries(d.labels).sort())}`);
    expect(keys.length).toBeGreaterThan(400);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('renders the same with and without the distinctSeries promise', () => {
    const snap = metaSnapshot(60);
    const render = (distinctSeries: boolean): string => {
      const b = new ExpositionBuilder();
      b.add({ snapshot: pointsOf(snap), exporterPrefix: 'runsc_meta_', extraLabels: {}, distinctSeries });
      return b.finish().toString('utf8');
    };
    const plain = render(false);
    expect(render(true)).toBe(plain);
    expect(plain).toContain('runsc_meta_sandbox_capabilities{capability="SYS_PTRACE"');
    expect(plain).toContain('runsc_meta_sandbox_export_failures{iteration="it0",reason="urpc:closed",sandbox="sb-0"}');
  });

  it('comes in one part per sandbox and the counts last; rendered in parts it is the whole snapshot', () => {
    const parts = metaParts(60);
    expect(parts).toHaveLength(61);
    expect(snapshotOf(parts.at(-1)!.snapshot).data.map((d) => d.metric.name)).toEqual([
      'num_sandboxes_running',
      'num_sandboxes_broken_metrics',
      'num_sandboxes_total',
    ]);
    expect(parts.every((p) => p.distinctSeries === true && p.exporterPrefix === 'runsc_meta_')).toBe(true);
    const inParts = new ExpositionBuilder();
    const slot = inParts.reserve();
    // Another slot's points between the parts, as sandboxes' snapshots come between them in a scrape.
    parts.forEach((p, i) => {
      inParts.addPart({ ...p, extraLabels: parts[0]!.extraLabels }, slot);
      if (i % 10 === 0)
        inParts.add({
          snapshot: pointsOf({ when: WHEN, data: [] }),
          exporterPrefix: 'runsc_',
          extraLabels: { sandbox: `x${i}` },
        });
    });
    const whole = new ExpositionBuilder();
    whole.add({
      snapshot: pointsOf(metaSnapshot(60)),
      exporterPrefix: 'runsc_meta_',
      extraLabels: {},
      distinctSeries: true,
    });
    for (let i = 0; i < 61; i += 10)
      whole.add({
        snapshot: pointsOf({ when: WHEN, data: [] }),
        exporterPrefix: 'runsc_',
        extraLabels: { sandbox: `x${i}` },
      });
    expect(inParts.finish().toString('utf8')).toBe(whole.finish().toString('utf8'));
  });
});
