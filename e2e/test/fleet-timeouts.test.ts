// Stalled, half-answering and dripping sandboxes cannot hold a scrape beyond
// the documented bounds, and never cost the healthy sandboxes their data.
import type { FakeSandbox } from '@org/metricserver-fake-sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Exposition, findSamples, parseExposition } from '../src/exposition.js';
import { expectedSeries, servedSeries } from '../src/fleet/expected.js';
import { type FleetRig, startRig } from '../src/fleet/rig.js';
import { expectPromtoolAccepts } from '../src/promtool.js';
import { scrape } from '../src/scrape.js';

const HONEST = 6;
const STALLERS = [
  { behaviour: 'no-answer', count: 2 },
  { behaviour: 'stall-accept', count: 2 },
  { behaviour: 'half-json', count: 2 },
  { behaviour: { name: 'drip', param: 200 }, count: 2 },
  { behaviour: { name: 'slow', param: 5_000 }, count: 1 },
  { behaviour: 'endless', count: 1 },
] as const;
const STALLED = STALLERS.reduce((n, b) => n + b.count, 0);

async function checkedScrape(rig: FleetRig): Promise<{ exp: Exposition; ms: number }> {
  const res = await scrape(rig.server.target, '', 60_000);
  expectPromtoolAccepts(res.body);
  return { exp: parseExposition(res.body), ms: res.durationMs };
}

/** Honest data is complete: what the sandbox exported before the scrape ⊆ served ⊆ what it exports after. */
async function expectHonestComplete(
  _rig: FleetRig,
  honest: FakeSandbox[],
  exp: Exposition,
  before: Map<string, Set<string>>,
) {
  for (const sb of honest) {
    const served = servedSeries(exp, sb.id);
    const after = await expectedSeries(sb);
    const lo = before.get(sb.id) ?? new Set();
    expect(
      [...lo].filter((k) => !served.has(k)),
      `${sb.id}: exported before the scrape but not served`,
    ).toEqual([]);
    expect(
      [...served].filter((k) => !after.has(k)),
      `${sb.id}: served but never exported`,
    ).toEqual([]);
    expect(served.size).toBeGreaterThan(0);
  }
}

async function snapshotBefore(honest: FakeSandbox[]): Promise<Map<string, Set<string>>> {
  return new Map(await Promise.all(honest.map(async (sb) => [sb.id, await expectedSeries(sb)] as const)));
}

describe('per-sandbox timeout 1 s, all sandboxes queried at once', () => {
  let rig: FleetRig;
  let honest: FakeSandbox[];
  let stalled: FakeSandbox[];

  beforeAll(async () => {
    rig = await startRig({
      fleet: { count: HONEST + STALLED, behaviours: [...STALLERS] },
      flags: ['--per-sandbox-timeout=1s'],
    });
    stalled = rig.fleet.sandboxes.slice(0, STALLED);
    honest = rig.fleet.sandboxes.slice(STALLED);
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('every scrape returns within the timeout (+ margin) with all honest data, the stalled counted broken', async () => {
    for (let i = 0; i < 3; i++) {
      const before = await snapshotBefore(honest);
      const { exp, ms } = await checkedScrape(rig);
      // 1 s per-sandbox bound, in parallel; 3 s of margin for a loaded 2-core machine.
      expect(ms).toBeLessThan(4_000);
      await expectHonestComplete(rig, honest, exp, before);
      for (const sb of stalled) expect(servedSeries(exp, sb.id), `${sb.id} (${sb.behaviour.name})`).toEqual(new Set());
      expect(findSamples(exp, 'runsc_meta_num_sandboxes_broken_metrics')[0]?.value).toBe(String(STALLED));
      expect(findSamples(exp, 'runsc_meta_num_sandboxes_running')[0]?.value).toBe(String(HONEST + STALLED));
      for (const sb of rig.fleet.sandboxes) {
        expect(findSamples(exp, 'runsc_meta_sandbox_presence', { sandbox: sb.id }).map((s) => s.value)).toEqual(['1']);
      }
    }
  });

  it('a stalled sandbox does not delay a concurrent scrape beyond the same bound', async () => {
    const started = performance.now();
    const results = await Promise.all([checkedScrape(rig), checkedScrape(rig), checkedScrape(rig)]);
    // Exports of one sandbox are serialised across scrapes, so the worst case is two 1 s waits in a row.
    expect(performance.now() - started).toBeLessThan(6_000);
    for (const { exp } of results) for (const sb of honest) expect(servedSeries(exp, sb.id).size).toBeGreaterThan(0);
  });
});

describe('the 30 s scrape deadline', () => {
  let rig: FleetRig;
  afterAll(async () => {
    await rig?.close();
  });

  it('cuts a scrape whose stalled sandboxes would need longer (one at a time, 8 s each)', async () => {
    // 5 silent sandboxes x 8 s one after the other = 40 s: the deadline must end the scrape at 30 s.
    rig = await startRig({
      fleet: { count: 7, behaviours: [{ behaviour: 'no-answer', count: 5 }] },
      flags: ['--scrape-concurrency=1'],
    });
    const { exp, ms } = await checkedScrape(rig);
    expect(ms).toBeGreaterThan(29_000);
    expect(ms).toBeLessThan(34_000);
    expect(rig.server.child.exitCode).toBeNull();
    // Whatever was reached in time is there with complete meta data; nobody is counted twice.
    for (const sb of rig.fleet.sandboxes) {
      expect(findSamples(exp, 'runsc_meta_sandbox_presence', { sandbox: sb.id }).map((s) => s.value)).toEqual(['1']);
    }
  }, 60_000);
});
