// Coalescing and export-health meta-metrics through core against fake sandboxes,
// with the load measured from the sandboxes' side (their own export counters).
import { createFleet, type Fleet } from '@org/metricserver-fake-sandbox';
import { describe, expect, it } from 'vitest';
import { startMetricServer } from '../../src/index.js';
import { memoryLogger } from '../../src/log.js';
import { get, request } from '../support/http-client.js';
import { expectValidOpenMetrics } from '../support/openmetrics.js';
import { expectPromtoolAccepts } from '../support/promtool.js';
import { onCleanup, tempDir } from '../support/server.js';

async function fleetAndServer(
  behaviours: Parameters<typeof createFleet>[0]['behaviours'],
  count: number,
  extra: { perSandboxTimeoutMs?: number; maxConcurrentScrapes?: number; openMetrics?: boolean } = {},
) {
  const root = tempDir('ms-coalesce-');
  const address = `${root}/metrics.sock`;
  const fleet: Fleet = await createFleet({ root, metricServer: address, count, behaviours, hosts: 2 });
  onCleanup(() => fleet.close());
  const handle = await startMetricServer({ root, metricServer: address, logger: memoryLogger(), ...extra });
  onCleanup(() => handle.close('test over'));
  return { fleet, target: { socketPath: handle.address } };
}

const value = (body: string, re: RegExp): number => {
  const m = re.exec(body);
  if (!m) throw new Error(`no match for ${re} in:\n${body.slice(0, 3000)}`);
  return Number(m[1]);
};

describe('scrape coalescing against a fleet', () => {
  it('4 concurrent scrapes with a slow sandbox: each sandbox answers ONE export, all 4 bodies hold every sandbox', async () => {
    const s = await fleetAndServer([{ behaviour: { name: 'slow', param: 400 }, count: 1 }], 4);
    const bodies = await Promise.all([0, 1, 2, 3].map(() => get(s.target, '/metrics')));
    for (const sb of s.fleet.sandboxes) expect(sb.exportCount, sb.id).toBe(1);
    for (const res of bodies) {
      expect(res.status).toBe(200);
      expectPromtoolAccepts(res.body);
      // Every sandbox's own series (not only its meta series) are in every body.
      for (const sb of s.fleet.sandboxes)
        expect(res.body).toMatch(new RegExp(`^runsc_(?!meta_)[a-z0-9_]+\\{[^}]*sandbox="${sb.id}"`, 'm'));
    }
    // Different filters are separate exports (serialised per sandbox, so both are verified).
    const [plain, filtered] = await Promise.all([
      get(s.target, '/metrics'),
      get(s.target, '/metrics?runsc-sandbox-metrics-filter=%5Efs_'),
    ]);
    expectPromtoolAccepts(plain.body);
    expectPromtoolAccepts(filtered.body);
    for (const sb of s.fleet.sandboxes) expect(sb.exportCount).toBe(3);
  });

  it('the 429 cap still counts requests that join a shared export', async () => {
    const s = await fleetAndServer([{ behaviour: { name: 'slow', param: 400 }, count: 1 }], 2, {
      maxConcurrentScrapes: 2,
    });
    const res = await Promise.all([0, 1, 2, 3].map(() => get(s.target, '/metrics')));
    const statuses = res.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 429, 429]);
    for (const sb of s.fleet.sandboxes) expect(sb.exportCount).toBe(1);
  });
});

describe('export health meta-metrics against a fleet', () => {
  it('counts verifier rejections by code and timeouts per sandbox; reports the last export duration', async () => {
    const s = await fleetAndServer(
      [
        { behaviour: 'unregistered-metric', count: 1 },
        { behaviour: 'no-answer', count: 1 },
      ],
      3,
      { perSandboxTimeoutMs: 500 },
    );
    const [liar, stalled, honest] = s.fleet.sandboxes as [
      (typeof s.fleet.sandboxes)[number],
      (typeof s.fleet.sandboxes)[number],
      (typeof s.fleet.sandboxes)[number],
    ];
    await get(s.target, '/metrics');
    const res = await get(s.target, '/metrics');
    expectPromtoolAccepts(res.body);
    const b = res.body;
    const lbl = (id: string) => `[^}]*sandbox="${id}"[^}]*`;
    expect(b).toContain('# TYPE runsc_meta_sandbox_export_failures counter');
    expect(b).toContain('# TYPE runsc_meta_sandbox_export_timeouts counter');
    expect(b).toContain('# TYPE runsc_meta_sandbox_last_export_duration_seconds gauge');
    expect(
      value(
        b,
        new RegExp(
          `^runsc_meta_sandbox_export_failures\\{(?=${lbl(liar.id)})(?=[^}]*reason="unknown-metric")[^}]*\\} (\\d+)`,
          'm',
        ),
      ),
    ).toBe(2);
    expect(value(b, new RegExp(`^runsc_meta_sandbox_export_timeouts\\{${lbl(stalled.id)}\\} (\\d+)`, 'm'))).toBe(2);
    expect(value(b, new RegExp(`^runsc_meta_sandbox_export_timeouts\\{${lbl(honest.id)}\\} (\\d+)`, 'm'))).toBe(0);
    expect(b).not.toMatch(new RegExp(`^runsc_meta_sandbox_export_failures\\{${lbl(honest.id)}\\}`, 'm'));
    const stalledSeconds = value(
      b,
      new RegExp(`^runsc_meta_sandbox_last_export_duration_seconds\\{${lbl(stalled.id)}\\} (\\S+)`, 'm'),
    );
    expect(stalledSeconds).toBeGreaterThanOrEqual(0.45);
    expect(stalledSeconds).toBeLessThan(3);
    const honestSeconds = value(
      b,
      new RegExp(`^runsc_meta_sandbox_last_export_duration_seconds\\{${lbl(honest.id)}\\} (\\S+)`, 'm'),
    );
    expect(honestSeconds).toBeGreaterThan(0);
    expect(honestSeconds).toBeLessThan(0.45);
  });

  it('the health counters are OpenMetrics counters with _total samples', async () => {
    const s = await fleetAndServer([{ behaviour: 'unregistered-metric', count: 1 }], 2, { openMetrics: true });
    const res = await request(s.target, 'GET', '/metrics', {
      headers: { Accept: 'application/openmetrics-text; version=1.0.0' },
    });
    const fams = new Map(expectValidOpenMetrics(res.body).map((f) => [f.name, f]));
    expect(
      fams.get('runsc_meta_sandbox_export_failures')?.samples.map((x) => [x.name, x.labels.reason, x.value]),
    ).toEqual([['runsc_meta_sandbox_export_failures_total', 'unknown-metric', 1]]);
    expect(fams.get('runsc_meta_sandbox_export_timeouts')?.samples.length).toBe(2);
  });
});
