// Fairness, measured from the sandboxes' side through recording proxies: the
// concurrency bound holds with more stalled sandboxes than slots and every
// healthy sandbox is still served; the query order is random per scrape; with no
// more sandboxes than the bound, each keeps one connection from scrape to scrape.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSamples, parseExposition } from '../src/exposition.js';
import { servedSeries } from '../src/fleet/expected.js';
import { SocketRecorder } from '../src/fleet/recorder.js';
import { type FleetRig, startRig } from '../src/fleet/rig.js';
import { scrape } from '../src/scrape.js';

describe('more stalled sandboxes than the concurrency bound', () => {
  const STALLED = 6;
  const HONEST = 4;
  const CONCURRENCY = 2;
  let rig: FleetRig;
  let rec: SocketRecorder;

  beforeAll(async () => {
    rig = await startRig({
      fleet: { count: STALLED + HONEST, behaviours: [{ behaviour: 'no-answer', count: STALLED }] },
      flags: [`--scrape-concurrency=${CONCURRENCY}`, '--per-sandbox-timeout=500ms'],
    });
    rec = await SocketRecorder.interpose(rig.fleet.sandboxes);
  });
  afterAll(async () => {
    await rec?.close();
    await rig?.close();
  });

  it('never has more than the bound in flight, and serves every healthy sandbox in every scrape', async () => {
    const honest = rig.fleet.sandboxes.slice(STALLED);
    for (let i = 0; i < 4; i++) {
      rec.take();
      const res = await scrape(rig.server.target);
      const { connections, peakOpen } = rec.take();
      expect(peakOpen).toBeLessThanOrEqual(CONCURRENCY);
      expect(new Set(connections.map((c) => c.id)).size).toBe(STALLED + HONEST);
      // Worst case: the 6 stalled first, 3 waves of 500 ms; 3 s of margin.
      expect(res.durationMs).toBeLessThan(1_500 + 3_000);
      const exp = parseExposition(res.body);
      for (const sb of honest) expect(servedSeries(exp, sb.id).size, sb.id).toBeGreaterThan(0);
      expect(findSamples(exp, 'runsc_meta_num_sandboxes_broken_metrics')[0]?.value).toBe(String(STALLED));
    }
  });
});

describe('query order', () => {
  const N = 8;
  const SCRAPES = 200;
  let rig: FleetRig;
  let rec: SocketRecorder;

  beforeAll(async () => {
    // One at a time, so the order the sandboxes see is exactly the order the server chose.
    rig = await startRig({ fleet: { count: N }, flags: ['--scrape-concurrency=1'] });
    rec = await SocketRecorder.interpose(rig.fleet.sandboxes);
  });
  afterAll(async () => {
    await rec?.close();
    await rig?.close();
  });

  it('is a fresh uniformly random permutation per scrape (statistical bounds >= 4 sd)', async () => {
    const ids = rig.fleet.sandboxes.map((s) => s.id);
    const orders: string[][] = [];
    rec.take();
    for (let i = 0; i < SCRAPES; i++) {
      await scrape(rig.server.target);
      const order = rec.take().connections.map((c) => c.id);
      expect([...order].sort()).toEqual([...ids].sort()); // each queried exactly once
      orders.push(order);
    }
    // Deterministic or rotating orders give <= N distinct permutations; 200 draws out of 8! = 40320
    // collide about once on average.
    expect(new Set(orders.map((o) => o.join(','))).size).toBeGreaterThan(150);
    // Each sandbox comes first ~ Binomial(200, 1/8): mean 25, sd 4.7.
    for (const id of ids) {
      const first = orders.filter((o) => o[0] === id).length;
      expect(first, `${id} first in ${first} of ${SCRAPES}`).toBeGreaterThanOrEqual(6);
      expect(first, `${id} first in ${first} of ${SCRAPES}`).toBeLessThanOrEqual(55);
    }
    // Every pair in both orders about equally often (a rotation puts neighbours 7:1): sd 0.035.
    for (const a of ids) {
      for (const b of ids) {
        if (a >= b) continue;
        const aFirst = orders.filter((o) => o.indexOf(a) < o.indexOf(b)).length / SCRAPES;
        expect(aFirst, `${a} before ${b}`).toBeGreaterThan(0.32);
        expect(aFirst, `${a} before ${b}`).toBeLessThan(0.68);
      }
    }
  });
});

describe('kept connections (no more sandboxes than --scrape-concurrency)', () => {
  const HONEST = 4;
  let rig: FleetRig;
  let rec: SocketRecorder;

  beforeAll(async () => {
    rig = await startRig({
      fleet: { count: HONEST + 1, behaviours: [{ behaviour: 'no-answer', count: 1 }] },
      flags: ['--per-sandbox-timeout=300ms'],
    });
    rec = await SocketRecorder.interpose(rig.fleet.sandboxes);
  });
  afterAll(async () => {
    await rec?.close();
    await rig?.close();
  });

  it('queries each honest sandbox every scrape on the connection it opened first; a stalled one is reconnected', async () => {
    const stalled = rig.fleet.sandboxes[0]!;
    const honest = rig.fleet.sandboxes.slice(1);
    rec.take();
    for (let i = 0; i < 4; i++) {
      const before = honest.map((sb) => sb.exportCount);
      const res = await scrape(rig.server.target);
      const { connections } = rec.take();
      const ids = connections.map((c) => c.id).sort();
      // First scrape: one connection each. Later: only the stalled one's (cut at its deadline, so dropped).
      expect(ids).toEqual(i === 0 ? rig.fleet.sandboxes.map((sb) => sb.id).sort() : [stalled.id]);
      for (const [k, sb] of honest.entries()) expect(sb.exportCount, sb.id).toBe(before[k]! + 1); // a fresh export every scrape
      const exp = parseExposition(res.body);
      for (const sb of honest) expect(servedSeries(exp, sb.id).size, sb.id).toBeGreaterThan(0);
      expect(findSamples(exp, 'runsc_meta_num_sandboxes_broken_metrics')[0]?.value).toBe('1');
    }
  });
});
