// Instant discovery with the built CLI: 200 fake sandboxes appear in a burst and
// are served (per /runsc-metrics/status, which runs no discovery) with no
// /metrics request and long before the 20 s loop; 50 removed ones go the same way;
// a first scrape then finds every one of them already known, none broken.
import { type FakeSandbox, PidHolder, runLimited } from '@org/metricserver-fake-sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FleetRig, startRig } from '../src/fleet/rig.js';
import { expectPromtoolAccepts } from '../src/promtool.js';
import { httpGet, scrape } from '../src/scrape.js';

let rig: FleetRig;
const hosts: PidHolder[] = [];

beforeAll(async () => {
  rig = await startRig({});
  hosts.push(await PidHolder.spawn(), await PidHolder.spawn(), await PidHolder.spawn(), await PidHolder.spawn());
});
afterAll(async () => {
  await rig?.close();
  await Promise.all(hosts.map((h) => h.kill()));
});

async function servedIds(): Promise<Set<string>> {
  const res = await httpGet(rig.server.target, '/runsc-metrics/status');
  expect(res.status).toBe(200);
  return new Set((JSON.parse(res.body) as { sandboxes: Array<{ id: string }> }).sandboxes.map((s) => s.id));
}

async function waitFor(cond: (ids: Set<string>) => boolean, timeoutMs: number): Promise<Set<string>> {
  const t0 = Date.now();
  for (;;) {
    const ids = await servedIds();
    if (cond(ids) || Date.now() - t0 > timeoutMs) return ids;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('instant discovery (built CLI, inotify on the root directory)', () => {
  const burst: FakeSandbox[] = [];

  it('serves a burst of 200 new sandboxes without any scrape, well before the 20 s loop', async () => {
    const started = Date.now();
    for (let i = 0; i < 200; i++) burst.push(rig.fleet.create({ holder: hosts[i % hosts.length] }));
    await runLimited(burst, 32, (s) => s.start());
    const ids = await waitFor((s) => s.size === 200, 10_000);
    const tookMs = Date.now() - started;
    expect(ids.size, `served ${ids.size} of 200`).toBe(200);
    for (const s of burst) expect(ids.has(s.id)).toBe(true);
    // The server's first loop pass is 20 s after its start, which came before the burst.
    expect(tookMs).toBeLessThan(12_000);
    // No /metrics request was made: the request log (which does list the status requests) has none.
    expect(rig.server.output()).toMatch(/"path":"\/runsc-metrics\/status"/);
    expect(rig.server.output()).not.toMatch(/"path":"\/metrics"/);
  }, 60_000);

  it('sees 50 removed sandboxes go without a scrape', async () => {
    const gone = burst.slice(0, 50);
    await runLimited(gone, 16, (s) => s.stop());
    const ids = await waitFor((s) => s.size === 150, 5_000);
    expect(ids.size).toBe(150);
    for (const s of gone) expect(ids.has(s.id)).toBe(false);
    expect(rig.server.output()).not.toMatch(/"path":"\/metrics"/);
  });

  it('the first scrape serves all 150, none broken', async () => {
    const res = await scrape(rig.server.target);
    expectPromtoolAccepts(res.body);
    expect(res.body).toMatch(/^runsc_meta_num_sandboxes_running 150 /m);
    expect(res.body).toMatch(/^runsc_meta_num_sandboxes_broken_metrics 0 /m);
  });
});
