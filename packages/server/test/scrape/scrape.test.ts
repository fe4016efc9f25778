import { describe, expect, it } from 'vitest';
import { compileRe2 } from '../../src/filters.js';
import type { ScrapeRequest, Scraper } from '../../src/scrape.js';
import { shuffle } from '../../src/target-feed.js';
import { FakeBackend, FakeTarget } from '../support/fake-backend.js';
import { expectPromtoolAccepts } from '../support/promtool.js';
import { NO_FILTER, newScraper } from '../support/scraper.js';

const scraper = newScraper;

async function render(s: Scraper, req = NO_FILTER): Promise<string> {
  const out = await s.scrape(req, new AbortController().signal);
  return out.text();
}

describe('fairness and bounds', () => {
  it('stalled sandboxes cost one per-sandbox deadline, not one each, and healthy ones are served', async () => {
    const stalled = Array.from({ length: 20 }, (_, i) => new FakeTarget({ id: `stall-${i}`, delayMs: 'never' }));
    const healthy = Array.from({ length: 30 }, (_, i) => new FakeTarget({ id: `ok-${i}`, delayMs: 5 }));
    const { s } = scraper(new FakeBackend([...stalled, ...healthy]), { perSandboxTimeoutMs: 400 });
    const t0 = Date.now();
    const text = await render(s);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(390);
    expect(took).toBeLessThan(400 + 1500);
    expect(text).toMatch(/^runsc_meta_num_sandboxes_broken_metrics 20 /m);
    for (const h of healthy) expect(text).toContain(`runsc_fs_opens{sandbox="${h.id}"}`);
    expectPromtoolAccepts(text);
  });

  it('never gives a sandbox more than what is left of the scrape deadline', async () => {
    const { s } = scraper(new FakeBackend([new FakeTarget({ id: 'stuck', delayMs: 'never' })]), {
      perSandboxTimeoutMs: 10_000,
      scrapeDeadlineMs: 300,
    });
    const t0 = Date.now();
    const text = await render(s);
    expect(Date.now() - t0).toBeLessThan(300 + 1500);
    expect(text).toMatch(/^runsc_meta_num_sandboxes_broken_metrics 1 /m);
  });

  it('keeps at most scrapeConcurrency exports in flight', async () => {
    const targets = Array.from({ length: 10 }, (_, i) => new FakeTarget({ id: `t${i}`, delayMs: 30 }));
    let inFlight = 0;
    let peak = 0;
    for (const t of targets) {
      const orig = t.exportInto.bind(t);
      t.exportInto = async (...a) => {
        peak = Math.max(peak, ++inFlight);
        try {
          return await orig(...a);
        } finally {
          inFlight--;
        }
      };
    }
    const { s } = scraper(new FakeBackend(targets), { scrapeConcurrency: 3 });
    await render(s);
    expect(peak).toBe(3);
  });

  it('queries in a fresh random order per scrape', async () => {
    const targets = Array.from({ length: 8 }, (_, i) => new FakeTarget({ id: `t${i}` }));
    const order: string[] = [];
    for (const t of targets) {
      const orig = t.exportInto.bind(t);
      t.exportInto = (...a) => {
        order.push(t.id);
        return orig(...a);
      };
    }
    const { s } = scraper(new FakeBackend(targets), { scrapeConcurrency: 1 });
    const orders = new Set<string>();
    const firsts = new Set<string>();
    for (let i = 0; i < 40; i++) {
      order.length = 0;
      await s.scrape(NO_FILTER, new AbortController().signal);
      orders.add(order.join(','));
      firsts.add(order[0] as string);
    }
    // 40 scrapes of 8! orders: a repeat-heavy or fixed order would show here.
    expect(orders.size).toBeGreaterThan(30);
    expect(firsts.size).toBeGreaterThan(4);
  });

  it('a sandbox that starts within the export phase shares its one deadline; a late starter still gets its own', async () => {
    // One slot: whichever of the two goes second waited for it. The stalled one, started
    // 400 ms in, must be cut at the phase's deadline (500 ms), not 500 ms after its start;
    // the healthy one, started after that deadline, must still be served.
    const healthy = new FakeTarget({ id: 'ok', delayMs: 400 });
    const stalled = new FakeTarget({ id: 'stuck', delayMs: 'never' });
    const { s } = scraper(new FakeBackend([healthy, stalled]), { perSandboxTimeoutMs: 500, scrapeConcurrency: 1 });
    let healthyFirst = 0;
    for (let i = 0; i < 30 && healthyFirst < 2; i++) {
      const before = healthy.calls + stalled.calls;
      let first = '';
      for (const t of [healthy, stalled]) {
        const orig = FakeTarget.prototype.exportInto.bind(t);
        t.exportInto = (...a) => {
          if (first === '') first = t.opts.id;
          return orig(...a);
        };
      }
      const t0 = Date.now();
      const text = await render(s);
      const took = Date.now() - t0;
      expect(healthy.calls + stalled.calls).toBe(before + 2);
      expect(text).toContain('runsc_fs_opens{sandbox="ok"}');
      expect(text).toMatch(/^runsc_meta_num_sandboxes_broken_metrics 1 /m);
      if (first === 'ok') {
        healthyFirst++;
        // Per-start deadlines would take 400 + 500 ms.
        expect(took).toBeLessThan(750);
      } else {
        expect(took).toBeGreaterThanOrEqual(890);
      }
    }
    expect(healthyFirst).toBe(2);
  });

  it('counts a sandbox that gets no slot before the scrape deadline as timed out, without querying it', async () => {
    const a = new FakeTarget({ id: 'a', delayMs: 'never' });
    const b = new FakeTarget({ id: 'b', delayMs: 'never' });
    const { s } = scraper(new FakeBackend([a, b]), {
      perSandboxTimeoutMs: 10_000,
      scrapeDeadlineMs: 300,
      scrapeConcurrency: 1,
    });
    const t0 = Date.now();
    const text = await render(s);
    expect(Date.now() - t0).toBeLessThan(300 + 1500);
    expect(a.calls + b.calls).toBe(1);
    expect(text).toMatch(/^runsc_meta_num_sandboxes_broken_metrics 2 /m);
    for (const id of ['a', 'b']) expect(text).toContain(`runsc_meta_sandbox_export_timeouts{sandbox="${id}"} 1`);
  });

  it('shuffle is a permutation', () => {
    const a = Array.from({ length: 100 }, (_, i) => i);
    shuffle(a);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
});

describe('per-sandbox serialisation', () => {
  it('two concurrent scrapes never run one sandbox export at the same time', async () => {
    const t = new FakeTarget({ id: 'one', delayMs: 80 });
    const { s } = scraper(new FakeBackend([t]));
    // Different filters: the scrapes cannot share one export (same filters would coalesce).
    const fsOnly: ScrapeRequest = {
      metricsFilter: 'fs_',
      metricsMatcher: compileRe2('fs_'),
      capabilityMatcher: undefined,
    };
    const [a, b] = await Promise.all([render(s), render(s, fsOnly)]);
    expect(t.calls).toBe(2);
    expect(t.maxInFlight).toBe(1);
    expectPromtoolAccepts(a);
    expectPromtoolAccepts(b);
  });
});

describe('meta metrics', () => {
  it('renders the exact meta families, labels and counts', async () => {
    const backend = new FakeBackend([
      new FakeTarget({
        id: 'good',
        labels: { sandbox: 'good', iteration: 'abc', pod_name: 'p', namespace_name: 'n' },
        meta: { metricMetadata: { experiment: '' } },
      }),
      new FakeTarget({ id: 'broken', fail: 'urpc: connection refused' }),
      new FakeTarget({ id: 'dead', fail: 'gone', running: false }),
      new FakeTarget({ id: 'unloaded', loaded: false }),
    ]);
    const { s, log } = scraper(backend);
    const text = await render(s, {
      metricsFilter: 'fs_"x\n',
      metricsMatcher: compileRe2('fs_'),
      capabilityMatcher: undefined,
    });
    expectPromtoolAccepts(text);
    expect(text.split('\n')[0]).toBe(
      '# Data for runsc metric server exporting data for sandboxes in root directory /run/runsc (filtered using regular expression: "fs_\\"x\\n")',
    );
    const expectFamily = (name: string, type: string, help: string) => {
      expect(text).toContain(`# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`);
    };
    expectFamily('runsc_meta_sandbox_presence', 'gauge', 'Boolean metric set to 1 for each known sandbox.');
    expectFamily('runsc_meta_sandbox_running', 'gauge', 'Boolean metric set to 1 for each running sandbox.');
    expectFamily('runsc_meta_sandbox_metadata', 'gauge', 'Key-value pairs about per-sandbox metadata.');
    expectFamily(
      'runsc_meta_sandbox_capabilities',
      'gauge',
      'Linux capabilities added within containers of the sandbox.',
    );
    expectFamily('runsc_meta_spec_metadata', 'gauge', 'Key-value pairs about OCI spec metadata.');
    expectFamily(
      'runsc_meta_sandbox_creation_time_seconds',
      'gauge',
      'When the sandbox was created, as a unix timestamp in seconds.',
    );
    expectFamily('runsc_meta_num_sandboxes_running', 'gauge', 'Number of sandboxes running at present.');
    expectFamily(
      'runsc_meta_num_sandboxes_broken_metrics',
      'gauge',
      'Number of sandboxes from which we cannot export metrics.',
    );
    expectFamily('runsc_meta_num_sandboxes_total', 'counter', 'Counter of sandboxes that have ever been started.');
    expectFamily('process_start_time_seconds', 'gauge', 'Start time of the process since unix epoch in seconds.');
    const L = 'iteration="abc",namespace_name="n",pod_name="p",sandbox="good"';
    expect(text).toMatch(new RegExp(`^runsc_meta_sandbox_metadata\\{experiment="",${L}\\} 1 \\d+$`, 'm'));
    expect(text).toMatch(new RegExp(`^runsc_meta_sandbox_capabilities\\{capability="NET_RAW",${L}\\} 1 \\d+$`, 'm'));
    expect(text).toMatch(
      /^runsc_meta_spec_metadata\{hasuid0="true",iteration="abc",namespace_name="n",ociversion="1.0.2",pod_name="p",sandbox="good"\} 1 \d+$/m,
    );
    expect(text).toMatch(
      new RegExp(`^runsc_meta_sandbox_creation_time_seconds\\{${L}\\} 1716228000.500000 \\d+$`, 'm'),
    );
    expect(text).toMatch(/^process_start_time_seconds 1716228000.500000 \d+$/m);
    // broken: running but failed; dead: failed but not running; unloaded: not running, never broken.
    expect(text).toMatch(/^runsc_meta_num_sandboxes_running 2 /m);
    expect(text).toMatch(/^runsc_meta_num_sandboxes_broken_metrics 1 /m);
    expect(text).toMatch(/^runsc_meta_num_sandboxes_total 4 /m);
    expect(text).toMatch(/^runsc_meta_sandbox_running\{sandbox="unloaded"\} 0 /m);
    expect(text).toMatch(/^runsc_meta_sandbox_presence\{sandbox="dead"\} 1 /m);
    expect(text).not.toMatch(/sandbox_metadata\{[^}]*sandbox="broken"/);
    const warned = log.records().filter((r) => r.msg === 'Could not export metrics from sandbox');
    expect(warned).toEqual([expect.objectContaining({ sandbox: 'broken', error: 'urpc: connection refused' })]);
  });

  // Go asks kill(pid, 0) after every query; a verified reply already proves the process
  // answered, so only a failed export asks (docs/compat.md).
  it('asks whether a sandbox runs only after a failed export', async () => {
    class CountingTarget extends FakeTarget {
      asked = 0;
      override isRunning(): boolean {
        this.asked++;
        return super.isRunning();
      }
    }
    const ok = new CountingTarget({ id: 'ok', running: false }); // kill(pid, 0) would say no
    const failed = new CountingTarget({ id: 'failed', fail: 'urpc: connection refused', running: false });
    const { s } = scraper(new FakeBackend([ok, failed]));
    const text = await render(s);
    expect(text).toMatch(/^runsc_meta_sandbox_running\{sandbox="ok"\} 1 /m);
    expect(text).toMatch(/^runsc_meta_sandbox_running\{sandbox="failed"\} 0 /m);
    expect(text).toMatch(/^runsc_meta_num_sandboxes_broken_metrics 0 /m);
    expect([ok.asked, failed.asked]).toEqual([0, 1]);
  });

  it('uses the exporter prefix for sandbox and meta metrics but never for process_start_time_seconds', async () => {
    const { s } = scraper(new FakeBackend([new FakeTarget({ id: 'a' })]), { exporterPrefix: '' });
    const text = await render(s);
    expectPromtoolAccepts(text);
    expect(text).toMatch(/^fs_opens\{sandbox="a"\} 1 /m);
    expect(text).toMatch(/^meta_sandbox_presence\{sandbox="a"\} 1 /m);
    expect(text).toMatch(/^process_start_time_seconds /m);
  });

  it('logs a broken sandbox once per change of error and once on recovery', async () => {
    let mode = 'a';
    const t = new FakeTarget({ id: 'flaky' });
    const orig = t.exportInto.bind(t);
    t.exportInto = async (...a) => {
      if (mode === 'ok') return orig(...a);
      throw new Error(`failure ${mode}`);
    };
    const { s, log } = scraper(new FakeBackend([t]));
    let n = 0;
    for (const m of ['a', 'a', 'a', 'b', 'b', 'ok', 'ok', 'a']) {
      // The same error with different numbers in it (times, sizes) is the same error.
      mode = m === 'ok' ? m : `${m} at ${n++} ms`;
      await s.scrape(NO_FILTER, new AbortController().signal);
    }
    const lines = log.records().map((r) => `${String(r.msg)}|${String(r.error ?? '')}`);
    expect(lines).toEqual([
      'Could not export metrics from sandbox|failure a at 0 ms',
      'Could not export metrics from sandbox|failure b at 3 ms',
      'Sandbox exports metrics again|',
      'Could not export metrics from sandbox|failure a at 5 ms',
    ]);
  });
});
