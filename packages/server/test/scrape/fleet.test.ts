// The real backend (core's registry, urpc, verifier) against fake sandboxes.
import { createFleet, type Fleet } from '@org/metricserver-fake-sandbox';
import { describe, expect, it } from 'vitest';
import { startMetricServer } from '../../src/index.js';
import { memoryLogger } from '../../src/log.js';
import { get } from '../support/http-client.js';
import { expectPromtoolAccepts } from '../support/promtool.js';
import { onCleanup, tempDir } from '../support/server.js';

async function fleetAndServer(
  behaviours: Parameters<typeof createFleet>[0]['behaviours'],
  count: number,
  extra: { perSandboxTimeoutMs?: number; maxResponseBytes?: number } = {},
) {
  const root = tempDir('ms-fleet-');
  // A unix socket address is known before binding, so sandboxes can name it.
  const address = `${root}/metrics.sock`;
  const fleet: Fleet = await createFleet({ root, metricServer: address, count, behaviours, hosts: 2 });
  onCleanup(() => fleet.close());
  const log = memoryLogger();
  const handle = await startMetricServer({ root, metricServer: address, logger: log, ...extra });
  onCleanup(() => handle.close('test over'));
  return { root, fleet, handle, log, target: { socketPath: handle.address } };
}

const sample = (body: string, name: string): number => {
  const m = new RegExp(`^${name} (\\S+) \\d+$`, 'm').exec(body);
  if (!m) throw new Error(`no sample ${name} in:\n${body.slice(0, 3000)}`);
  return Number(m[1]);
};

describe('scraping a fake fleet through core', () => {
  it('serves honest sandboxes, counts stalled and lying ones as broken, within the per-sandbox bound', async () => {
    const s = await fleetAndServer(
      [
        { behaviour: 'no-answer', count: 2 },
        { behaviour: 'unregistered-metric', count: 1 },
      ],
      8,
      { perSandboxTimeoutMs: 1500 },
    );
    const started = Date.now();
    const res = await get(s.target, '/metrics');
    const took = Date.now() - started;
    expect(res.status).toBe(200);
    expectPromtoolAccepts(res.body);
    // Stalled sandboxes are waited for in parallel, once: one bound, not two.
    expect(took).toBeLessThan(1500 + 2500);
    expect(sample(res.body, 'runsc_meta_num_sandboxes_running')).toBe(8);
    expect(sample(res.body, 'runsc_meta_num_sandboxes_broken_metrics')).toBe(3);
    expect(sample(res.body, 'runsc_meta_num_sandboxes_total')).toBe(8);
    const honest = s.fleet.sandboxes.slice(3);
    for (const sb of honest) {
      expect(res.body).toMatch(new RegExp(`runsc_meta_sandbox_creation_time_seconds\\{[^}]*sandbox="${sb.id}"`));
    }
    expect(res.body).toMatch(/^process_start_time_seconds \d+\.\d{6} \d+$/m);
    // Broken sandboxes are logged once, not every scrape.
    const second = await get(s.target, '/metrics');
    expectPromtoolAccepts(second.body);
    const warnings = s.log.records().filter((r) => r.msg === 'Could not export metrics from sandbox');
    expect(new Set(warnings.map((w) => w.sandbox)).size).toBe(3);
    expect(warnings.length).toBe(3);
    // A stalled sandbox is a timeout (the deadline's own error), not a failure: the urpc
    // call settles on the cut itself and the scrape reports the cut's reason.
    for (const sb of s.fleet.sandboxes.slice(0, 2)) {
      expect(second.body).toMatch(
        new RegExp(`^runsc_meta_sandbox_export_timeouts\\{[^}]*sandbox="${sb.id}"\\} 2 `, 'm'),
      );
      expect(second.body).not.toMatch(new RegExp(`^runsc_meta_sandbox_export_failures\\{[^}]*sandbox="${sb.id}"`, 'm'));
      const w = warnings.find((r) => r.sandbox === sb.id);
      expect(String(w?.error)).toMatch(
        /^no verified answer within the per-sandbox deadline of 1500 ms from the start of the scrape$/,
      );
    }
  });

  it('applies a metrics filter end to end and drops a sandbox that ignores it', async () => {
    const s = await fleetAndServer([{ behaviour: 'ignore-filter', count: 1 }], 3);
    const res = await get(s.target, '/metrics?runsc-sandbox-metrics-filter=%5Enetstack_tcp_');
    expect(res.status).toBe(200);
    expectPromtoolAccepts(res.body);
    expect(sample(res.body, 'runsc_meta_num_sandboxes_broken_metrics')).toBe(1);
    const names = [...res.body.matchAll(/^runsc_([a-z_]+)[{ ]/gm)]
      .map((m) => m[1] as string)
      .filter((n) => !n.startsWith('meta_'));
    expect(names.length).toBeGreaterThan(0);
    for (const n of names) expect(n.startsWith('netstack_tcp_')).toBe(true);
  });

  it('serves sandboxes that appear after start-up and forgets crashed ones', async () => {
    const s = await fleetAndServer([], 2);
    const sb = await s.fleet.add();
    const res = await get(s.target, '/metrics');
    expectPromtoolAccepts(res.body);
    expect(sample(res.body, 'runsc_meta_num_sandboxes_running')).toBe(3);
    expect(res.body).toContain(`sandbox="${sb.id}"`);
    await sb.crash();
    const after = await get(s.target, '/metrics');
    expectPromtoolAccepts(after.body);
    expect(after.body).not.toContain(`sandbox="${sb.id}"`);
    expect(sample(after.body, 'runsc_meta_num_sandboxes_running')).toBe(2);
  });

  it('counts a sandbox whose reply exceeds --max-response-bytes as broken, quickly', async () => {
    const s = await fleetAndServer([{ behaviour: { name: 'huge', param: 8 * 1024 * 1024 }, count: 1 }], 3, {
      maxResponseBytes: 64 * 1024,
    });
    const t0 = Date.now();
    const res = await get(s.target, '/metrics');
    expect(Date.now() - t0).toBeLessThan(5000);
    expectPromtoolAccepts(res.body);
    expect(sample(res.body, 'runsc_meta_num_sandboxes_broken_metrics')).toBe(1);
    expect(sample(res.body, 'runsc_meta_num_sandboxes_running')).toBe(3);
  });

  it('retries a sandbox whose state file is locked (runsc still creating it) instead of dropping it', async () => {
    const s = await fleetAndServer([{ behaviour: { name: 'booting', param: 2500 }, count: 1 }], 2);
    const booting = s.fleet.sandboxes[0]!;
    const first = await get(s.target, '/metrics');
    // Still booting after the scrape: the scrape saw the state file locked.
    expect(booting.status).toBe('booting');
    expectPromtoolAccepts(first.body);
    expect(first.body).not.toContain(`sandbox="${booting.id}"`);
    const end = Date.now() + 10_000;
    let body = '';
    while (Date.now() < end) {
      await new Promise((r) => setTimeout(r, 200));
      body = (await get(s.target, '/metrics')).body;
      if (body.includes(`sandbox="${booting.id}"`)) break;
    }
    expectPromtoolAccepts(body);
    expect(body).toMatch(new RegExp(`runsc_meta_sandbox_running\\{[^}]*sandbox="${booting.id}"\\} 1 `));
  });
});
