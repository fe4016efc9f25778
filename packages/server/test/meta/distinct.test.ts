// The scrape promises the builder that the meta snapshot has no series twice
// (distinctSeries), which spares its duplicate sets. The promise is checked here on a
// fleet with everything that adds meta points: metadata that names identity keys,
// capabilities (filtered and not), failure reasons, broken and not-loaded sandboxes.
import { describe, expect, it } from 'vitest';
import { ExpositionBuilder, type Labels } from '@org/metricserver-prom-format';
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
  const failuresByReason = new Map<string, number>(i % 4 === 0 ? [['verify:counter-decreased', 2], ['urpc:closed', 1]] : []);
  return { id: `sb-${i}`, last: { finishedAtMs: 1, durationMs: 3 + i, failure: undefined }, exports: 5, failures: 3, timeouts: i % 5, failuresByReason } as SandboxHealth;
}

function metaSnapshot(n: number) {
  const meta = new MetaSnapshotBuilder(undefined);
  for (let i = 0; i < n; i++) {
    const loaded = i % 7 !== 6;
    meta.addSandbox(identity(i), loaded ? metaOf(i) : undefined, i % 5 !== 4, i % 3 !== 2);
    if (loaded) meta.addHealth(identity(i), health(i));
  }
  return meta.finish({ seconds: 1_700_000_100, nanos: 0 }, n);
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
      b.add({ snapshot: snap, exporterPrefix: 'runsc_meta_', extraLabels: {}, distinctSeries });
      return b.finish().toString('utf8');
    };
    const plain = render(false);
    expect(render(true)).toBe(plain);
    expect(plain).toContain('runsc_meta_sandbox_capabilities{capability="SYS_PTRACE"');
    expect(plain).toContain('runsc_meta_sandbox_export_failures{iteration="it0",reason="urpc:closed",sandbox="sb-0"}');
  });
});
