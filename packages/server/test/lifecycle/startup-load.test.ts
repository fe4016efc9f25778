// Start-up: the sandboxes already running are loaded in the background as soon as the
// server starts, not by the first scrape; and a scrape that arrives while that pass runs
// queries each sandbox as it is loaded instead of waiting for the whole pass.
import { createFleet } from '@org/metricserver-fake-sandbox';
import { describe, expect, it } from 'vitest';
import type { ScrapeTarget } from '../../src/backend.js';
import { createCoreBackend } from '../../src/core-backend.js';
import { startMetricServer } from '../../src/index.js';
import { memoryLogger } from '../../src/log.js';
import { FakeBackend, FakeTarget } from '../support/fake-backend.js';
import { get } from '../support/http-client.js';
import { expectPromtoolAccepts } from '../support/promtool.js';
import { onCleanup, startTestServer, tempDir } from '../support/server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('start-up loading', () => {
  it('loads the running sandboxes without a scrape', async () => {
    const root = `${tempDir('ms-startup-')}/root`;
    const address = `${root}/metrics.sock`;
    const fleet = await createFleet({ root, metricServer: address, count: 40 });
    onCleanup(() => fleet.close());
    let scrapesAsked = 0;
    const handle = await startMetricServer(
      { root, metricServer: address, logger: memoryLogger(), instantDiscovery: false, verifyLoopIntervalMs: 600_000 },
      {
        backend: (config, log) => {
          const core = createCoreBackend(config, log);
          return {
            ...core,
            refresh: (onAdded) => {
              if (onAdded !== undefined) scrapesAsked++;
              return core.refresh(onAdded);
            },
          };
        },
      },
    );
    onCleanup(() => handle.close('test over'));
    const status = async () =>
      JSON.parse((await get({ socketPath: address }, '/runsc-metrics/status')).body) as {
        sandboxes: { id: string; loaded: boolean }[];
      };
    const until = Date.now() + 10_000;
    let loaded = 0;
    while (Date.now() < until && (loaded = (await status()).sandboxes.filter((s) => s.loaded).length) < 40)
      await sleep(25);
    expect(loaded).toBe(40);
    expect(scrapesAsked).toBe(0); // the status page runs no discovery: the start-up pass loaded them
  });

  it('queries the sandboxes a pass loads while the pass is still running', async () => {
    // A backend whose start-up pass loads one sandbox every 40 ms.
    class SlowStart extends FakeBackend {
      loaded: FakeTarget[] = [];
      passDone = 0;
      private pass: Promise<void> | undefined;
      private readonly listeners = new Set<(t: ScrapeTarget) => void>();
      override async refresh(onAdded?: (t: ScrapeTarget) => void): Promise<void> {
        this.refreshes++;
        if (onAdded) this.listeners.add(onAdded);
        this.pass ??= (async () => {
          for (const t of this.list) {
            await sleep(40);
            this.loaded.push(t);
            for (const l of this.listeners) l(t);
          }
          this.passDone = Date.now();
        })();
        try {
          await this.pass;
        } finally {
          if (onAdded) this.listeners.delete(onAdded);
        }
      }
      override targets(): ScrapeTarget[] {
        return [...this.loaded];
      }
    }
    const backend = new SlowStart(Array.from({ length: 10 }, (_, i) => new FakeTarget({ id: `sb${i}` })));
    const s = await startTestServer({}, backend);
    const res = await get(s.target, '/metrics');
    expect(res.status).toBe(200);
    expectPromtoolAccepts(res.body);
    for (const t of backend.list) {
      expect(res.body).toContain(`sandbox="${t.id}"`);
      expect(t.calls).toBe(1);
    }
    // The first sandboxes were queried hundreds of ms before the pass ended.
    const first = backend.list[0]!.startedAt[0]!;
    expect(backend.passDone - first).toBeGreaterThan(200);
  });
});
