// Instant discovery end to end through core's registry: a burst of 200 fake
// sandboxes is served without any scrape and with the 20 s loop pushed out of
// reach; removals are seen the same way. Observed through the backend's
// targets() (an array snapshot of the registry; no discovery pass).
import { writeFileSync } from 'node:fs';
import { createFleet, type FakeSandbox, PidHolder, runLimited } from '@org/metricserver-fake-sandbox';
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/args.js';
import type { ScrapeBackend } from '../../src/backend.js';
import { configFromFlags, resolveConfig } from '../../src/config.js';
import { createCoreBackend } from '../../src/core-backend.js';
import { startMetricServer } from '../../src/index.js';
import { memoryLogger } from '../../src/log.js';
import { get } from '../support/http-client.js';
import { onCleanup, tempDir } from '../support/server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rig(instantDiscovery: boolean, watchDebounceMs?: number) {
  const root = `${tempDir('ms-instant-')}/root`;
  const address = `${root}/metrics.sock`;
  const fleet = await createFleet({ root, metricServer: address, idPrefix: 'burst' });
  onCleanup(() => fleet.close());
  const hosts = await Promise.all([PidHolder.spawn(), PidHolder.spawn()]);
  onCleanup(() => Promise.all(hosts.map((h) => h.kill())).then(() => {}));
  let backend!: ScrapeBackend;
  // refresh() is what scrapes and the 20 s loop call: counting it proves neither found the sandboxes.
  let refreshes = 0;
  let rediscovers = 0;
  const log = memoryLogger();
  const handle = await startMetricServer(
    {
      root,
      metricServer: address,
      logger: log,
      instantDiscovery,
      verifyLoopIntervalMs: 600_000,
      ...(watchDebounceMs === undefined ? {} : { watchDebounceMs }),
    },
    {
      backend: (config, l) => {
        const core = createCoreBackend(config, l);
        backend = {
          ...core,
          refresh: () => {
            refreshes++;
            return core.refresh();
          },
          rediscover: () => {
            rediscovers++;
            return core.rediscover!();
          },
        };
        return backend;
      },
    },
  );
  onCleanup(() => handle.close('test over'));
  const served = () => new Set(backend.targets().map((t) => t.id));
  return { fleet, hosts, handle, address, served, refreshes: () => refreshes, rediscovers: () => rediscovers, log };
}

async function waitServed(cond: () => boolean, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) return -1;
    await sleep(20);
  }
  return Date.now() - t0;
}

describe('instant discovery (inotify on the root directory)', () => {
  it('serves a burst of 200 new sandboxes without a scrape, and sees 50 of them go', async () => {
    const r = await rig(true);
    const t0 = Date.now();
    const created: FakeSandbox[] = [];
    for (let i = 0; i < 200; i++) created.push(r.fleet.create({ holder: r.hosts[i % 2] }));
    // Booting under the lock as runsc does: the state files appear while locked.
    await runLimited(created, 32, (s) => s.start());
    const startedMs = Date.now() - t0;
    const waited = await waitServed(() => r.served().size === 200, 10_000);
    expect(waited, `only ${r.served().size} of 200 served 10 s after the last one started`).toBeGreaterThanOrEqual(0);
    // Well before the 20 s loop (which is 10 min away here anyway).
    expect(startedMs + waited).toBeLessThan(15_000);
    for (const s of created) expect(r.served().has(s.id)).toBe(true);
    expect(r.refreshes()).toBe(1); // the start-up pass; none since

    const gone = created.slice(0, 50);
    await runLimited(gone, 16, (s) => s.stop());
    const removedIn = await waitServed(() => r.served().size === 150, 5_000);
    expect(removedIn, `${r.served().size} still served`).toBeGreaterThanOrEqual(0);
    for (const s of gone) expect(r.served().has(s.id)).toBe(false);
    expect(r.refreshes()).toBe(1); // the start-up pass; none since
  }, 60_000);

  it('with --instant-discovery=false nothing is discovered between scrapes', async () => {
    const r = await rig(false);
    await r.fleet.add({ holder: r.hosts[0] });
    await sleep(800);
    expect(r.served().size).toBe(0);
    expect(r.refreshes()).toBe(1); // the start-up pass; none since
  });

  it('closes the watch on shutdown', async () => {
    const r = await rig(true);
    await r.fleet.add({ holder: r.hosts[0] });
    const t0 = Date.now();
    while (r.rediscovers() === 0 && Date.now() - t0 < 5000) await sleep(20);
    expect(r.rediscovers()).toBeGreaterThan(0);
    await r.handle.close('test');
    const after = r.rediscovers();
    await r.fleet.add({ holder: r.hosts[0] });
    await sleep(500);
    expect(r.rediscovers()).toBe(after);
  });

  it('is on by default and off with --instant-discovery=false', () => {
    const cfg = (argv: string[]) => {
      const p = parseArgs(argv);
      if (p.kind !== 'run') throw new Error(`unexpected parse: ${p.kind}`);
      return resolveConfig(configFromFlags(p.flags, {}));
    };
    expect(cfg(['--metric-server=:1']).instantDiscovery).toBe(true);
    expect(cfg(['--metric-server=:1', '--instant-discovery']).instantDiscovery).toBe(true);
    expect(cfg(['--metric-server=:1', '--instant-discovery=false']).instantDiscovery).toBe(false);
  });

  it('a scrape right after a sandbox appears serves it, even while a watcher pass is running', async () => {
    // The watcher's pass may have listed the root just before the state file was written:
    // the scrape must not answer from that pass by joining it.
    const r = await rig(true, 0);
    // Keep watcher passes running back to back: a state file that changes every few ms.
    const churn = `${r.fleet.root}/churn_sandbox:churn.state`;
    let n = 0;
    const churner = setInterval(() => writeFileSync(churn, `{"n":${n++}}`), 2);
    onCleanup(() => clearInterval(churner));
    for (let i = 0; i < 25; i++) {
      const sb = await r.fleet.add({ holder: r.hosts[i % 2] });
      const res = await get({ socketPath: r.address }, '/metrics');
      expect(res.body, `scrape ${i}`).toMatch(
        new RegExp(`^runsc_meta_sandbox_presence\\{[^}]*sandbox="${sb.id}"`, 'm'),
      );
    }
  }, 60_000);
});
