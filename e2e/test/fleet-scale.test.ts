// More sandboxes than the default concurrency bound (256): every one is served
// with its own identity in one scrape, and the body stays valid.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSamples, parseExposition } from '../src/exposition.js';
import { identityLabels } from '../src/fleet/expected.js';
import { type FleetRig, startRig } from '../src/fleet/rig.js';
import { expectPromtoolAccepts } from '../src/promtool.js';
import { scrape } from '../src/scrape.js';

const COUNT = 300;

describe(`${COUNT} sandboxes`, () => {
  let rig: FleetRig;
  beforeAll(async () => {
    // 4 shared pid holders instead of 300 processes (liveness is per holder).
    rig = await startRig({ fleet: { count: COUNT, hosts: 4 } });
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('serves every sandbox, correctly labelled, in each scrape', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await scrape(rig.server.target, '', 60_000);
      expect(res.durationMs).toBeLessThan(15_000);
      expectPromtoolAccepts(res.body);
      const exp = parseExposition(res.body);
      expect(findSamples(exp, 'runsc_meta_num_sandboxes_running')[0]?.value).toBe(String(COUNT));
      expect(findSamples(exp, 'runsc_meta_num_sandboxes_broken_metrics')[0]?.value).toBe('0');
      const perSandbox = new Map<string, number>();
      for (const s of exp.samples) {
        const id = s.labels.sandbox;
        if (id !== undefined && !s.name.startsWith('runsc_meta_')) perSandbox.set(id, (perSandbox.get(id) ?? 0) + 1);
      }
      expect(perSandbox.size).toBe(COUNT);
      for (const sb of rig.fleet.sandboxes) {
        const running = findSamples(exp, 'runsc_meta_sandbox_running', { sandbox: sb.id });
        expect(running.map((s) => s.labels.iteration)).toEqual([
          identityLabels({ id: sb.id, createdAt: sb.createdAt, socketPath: sb.socketPath }).iteration,
        ]);
      }
    }
  });
});
