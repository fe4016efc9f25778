import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createFleet, runLimited } from '../../src/index.js';
import { call, EXPORT_ALL, shortRoot } from '../support/client.js';

describe('a 1000-sandbox fleet', () => {
  it('starts within the budget, answers, and leaves nothing behind', { timeout: 120_000 }, async () => {
    const root = shortRoot();
    const t0 = Date.now();
    const fleet = await createFleet({ root, metricServer: '/run/ms.sock', count: 1000, hosts: 4, seed: 11 });
    const startMs = Date.now() - t0;
    try {
      expect(startMs).toBeLessThan(20_000); // target 10 s on 2 cores; margin for a shared machine
      expect(readdirSync(root).filter((f) => f.endsWith('.state'))).toHaveLength(1000);
      expect(new Set(fleet.sandboxes.map((s) => s.pid)).size).toBe(4);
      // Every sandbox answers (bounded concurrency, like a metric server).
      let ok = 0;
      const te = Date.now();
      await runLimited(fleet.sandboxes, 16, async (s) => {
        if ((await call(s.socketPath, EXPORT_ALL)).end === 'complete') ok++;
      });
      expect(ok).toBe(1000);
      expect(Date.now() - te).toBeLessThan(20_000);
    } finally {
      await fleet.close();
    }
    expect(existsSync(root)).toBe(false);
  });

  it('one process per sandbox also scales (200 here)', { timeout: 60_000 }, async () => {
    const root = shortRoot();
    const fleet = await createFleet({ root, metricServer: '/run/ms.sock', count: 200 });
    try {
      expect(new Set(fleet.sandboxes.map((s) => s.pid)).size).toBe(200);
    } finally {
      await fleet.close();
    }
    expect(existsSync(root)).toBe(false);
  });

  it('assigns behaviours to the first sandboxes and is reproducible by seed', async () => {
    const mk = () =>
      createFleet({
        root: shortRoot(),
        metricServer: '/m',
        count: 4,
        seed: 5,
        behaviours: [{ behaviour: 'garbage', count: 2 }],
      });
    const [a, b] = [await mk(), await mk()];
    try {
      expect(a.sandboxes.map((s) => s.behaviour.name)).toEqual(['garbage', 'garbage', 'honest', 'honest']);
      const x = JSON.parse((await call(a.sandboxes[3]!.socketPath, EXPORT_ALL)).bytes.toString()).result.snapshot.data;
      const y = JSON.parse((await call(b.sandboxes[3]!.socketPath, EXPORT_ALL)).bytes.toString()).result.snapshot.data;
      const names = (d: { metric: { name: string } }[]) => d.map((e) => e.metric.name);
      expect(names(x)).toEqual(names(y));
    } finally {
      await a.close();
      await b.close();
    }
  });
});
