import http from 'node:http';
import { describe, expect, it, vi } from 'vitest';
import { ReleasedOutcomeError, type ScrapeOutcome } from '../../src/body.js';
import { resolveConfig } from '../../src/config.js';
import { createRequestListener, InFlight } from '../../src/http.js';
import { silentLogger } from '../../src/log.js';
import { createProfiler } from '../../src/profile.js';
import { INDEX_BODY } from '../../src/routes/index-page.js';
import { buildRouter } from '../../src/routes/router.js';
import { Scraper } from '../../src/scrape.js';
import { FakeBackend, FakeTarget } from '../support/fake-backend.js';
import { get, request } from '../support/http-client.js';
import { expectPromtoolAccepts } from '../support/promtool.js';
import { startTestServer } from '../support/server.js';

const TEXT = 'text/plain; charset=utf-8';

function expectGoError(
  res: { status: number; headers: Record<string, unknown>; body: string },
  status: number,
  body: string,
): void {
  expect(res.status).toBe(status);
  expect(res.body).toBe(body);
  expect(res.headers['content-type']).toBe(TEXT);
  expect(res.headers['x-content-type-options']).toBe('nosniff');
}

describe('index and catch-all', () => {
  it('serves the exact index page on / for every method', async () => {
    const s = await startTestServer();
    for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const res = await request(s.target, method, '/');
      expect(res.status).toBe(200);
      expect(res.body).toBe(INDEX_BODY);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    }
  });

  it('answers HEAD with headers and no body', async () => {
    const s = await startTestServer();
    const res = await request(s.target, 'HEAD', '/');
    expect(res.status).toBe(200);
    expect(res.body).toBe('');
    expect(res.headers['content-length']).toBe(String(Buffer.byteLength(INDEX_BODY)));
  });

  it('404s unknown paths with Go http.Error shape', async () => {
    const s = await startTestServer();
    expectGoError(await get(s.target, '/nope'), 404, 'path not found\n');
    expectGoError(await get(s.target, '/metrics/'), 404, 'path not found\n');
    expectGoError(await get(s.target, '/runsc-metrics/profile-cpu'), 404, 'path not found\n');
    expectGoError(await get(s.target, '/runsc-metrics/profile-heap'), 404, 'path not found\n');
  });

  it('redirects non-canonical paths to the cleaned path with 301, keeping the query', async () => {
    const s = await startTestServer();
    const cases: Array<[string, string]> = [
      ['//metrics', '/metrics'],
      ['/a/../metrics', '/metrics'],
      ['/./metrics?x=1', '/metrics?x=1'],
      ['/runsc-metrics//pid', '/runsc-metrics/pid'],
    ];
    for (const [from, to] of cases) {
      const res = await get(s.target, from);
      expect(res.status, from).toBe(301);
      expect(res.headers.location, from).toBe(to);
    }
  });

  it('400s a path with a bad percent escape', async () => {
    const s = await startTestServer();
    const res = await get(s.target, '/metrics%zz');
    expect(res.status).toBe(400);
  });
});

describe('/runsc-metrics/healthcheck', () => {
  it('accepts the exact root by GET query and by POST form; body has no newline', async () => {
    const s = await startTestServer();
    const ok = await get(s.target, `/runsc-metrics/healthcheck?root=${encodeURIComponent(s.root)}`);
    expect(ok.status).toBe(200);
    expect(ok.body).toBe('runsc-metrics:OK');
    expect(ok.headers['content-type']).toBe(TEXT);
    const post = await request(s.target, 'POST', '/runsc-metrics/healthcheck', {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `root=${encodeURIComponent(s.root)}`,
    });
    expect(post.status).toBe(200);
    expect(post.body).toBe('runsc-metrics:OK');
  });

  it('lets the form body win over the query', async () => {
    const s = await startTestServer();
    const res = await request(s.target, 'POST', `/runsc-metrics/healthcheck?root=${encodeURIComponent(s.root)}`, {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: 'root=/elsewhere',
    });
    expectGoError(res, 400, `this metric server is configured to serve root directory: ${s.root}\n`);
  });

  it('rejects a missing or different root (no normalisation) with 400', async () => {
    const s = await startTestServer();
    const want = `this metric server is configured to serve root directory: ${s.root}\n`;
    expectGoError(await get(s.target, '/runsc-metrics/healthcheck'), 400, want);
    expectGoError(
      await get(s.target, `/runsc-metrics/healthcheck?root=${encodeURIComponent(`${s.root}/`)}`),
      400,
      want,
    );
  });

  it('reports a form parse error with 400 and the parser message', async () => {
    const s = await startTestServer();
    expectGoError(await get(s.target, '/runsc-metrics/healthcheck?root=%zz'), 400, 'invalid URL escape "%zz"\n');
    const res = await request(s.target, 'POST', '/runsc-metrics/healthcheck', {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'root=a;b=c',
    });
    expectGoError(res, 400, 'invalid semicolon separator in query\n');
  });
});

describe('/runsc-metrics/pid', () => {
  it('returns the pid without a newline, for any method', async () => {
    const s = await startTestServer();
    for (const method of ['GET', 'POST']) {
      const res = await request(s.target, method, '/runsc-metrics/pid');
      expect(res.status).toBe(200);
      expect(res.body).toBe(String(process.pid));
      expect(res.headers['content-type']).toBe(TEXT);
    }
  });
});

describe('/metrics', () => {
  const fleet = (): FakeBackend => new FakeBackend([new FakeTarget({ id: 'sbA' }), new FakeTarget({ id: 'sbB' })]);

  it('serves promtool-valid text with the version content type', async () => {
    const s = await startTestServer({}, fleet());
    const res = await get(s.target, '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(res.body).toContain(
      `# Data for runsc metric server exporting data for sandboxes in root directory ${s.root}\n`,
    );
    expect(res.body).toMatch(/\nrunsc_fs_opens\{sandbox="sbA"\} 1 \d+\n/);
    expect(res.body).toContain('runsc_meta_num_sandboxes_running 2 ');
    expectPromtoolAccepts(res.body);
  });

  it('HEAD does the whole export but sends no body', async () => {
    const backend = fleet();
    const s = await startTestServer({}, backend);
    const res = await request(s.target, 'HEAD', '/metrics');
    expect(res.status).toBe(200);
    expect(res.body).toBe('');
    expect(backend.list[0]?.calls).toBe(1);
    expect(backend.refreshes).toBe(2); // the start-up pass, then the scrape's
  });

  it('validates the metrics filter first, then the capability filter, with exact 400 bodies', async () => {
    const s = await startTestServer({}, fleet());
    expectGoError(
      await get(s.target, '/metrics?runsc-sandbox-metrics-filter=(&runsc-capability-filter=('),
      400,
      'provided metric filter is not a valid regular expression\n',
    );
    expectGoError(
      await get(s.target, '/metrics?runsc-capability-filter=('),
      400,
      'provided capability filter is not a valid regular expression\n',
    );
    // RE2 syntax: look-ahead is not RE2 even though JS accepts it; (?i) is RE2 though JS rejects it.
    expectGoError(
      await get(s.target, '/metrics?runsc-sandbox-metrics-filter=a(%3F=b)'),
      400,
      'provided metric filter is not a valid regular expression\n',
    );
    const ok = await get(s.target, '/metrics?runsc-sandbox-metrics-filter=(%3Fi)FS_OPENS');
    expect(ok.status).toBe(200);
    expectPromtoolAccepts(ok.body);
  });

  it('applies the metrics filter, quotes it Go-style in the header, and never filters meta metrics', async () => {
    const s = await startTestServer({}, fleet());
    const res = await get(s.target, `/metrics?runsc-sandbox-metrics-filter=${encodeURIComponent('^fs_opens$')}`);
    expect(res.status).toBe(200);
    expect(res.body).toContain(' (filtered using regular expression: "^fs_opens$")\n');
    expect(res.body).toContain('runsc_fs_opens{');
    expect(res.body).not.toContain('runsc_fs_reads');
    expect(res.body).toContain('runsc_meta_sandbox_presence{');
    expectPromtoolAccepts(res.body);
  });

  it('filters capabilities by full or trimmed name', async () => {
    const s = await startTestServer({}, fleet());
    const full = await get(s.target, '/metrics?runsc-capability-filter=CAP_NET');
    expect(full.body).toContain('runsc_meta_sandbox_capabilities{capability="NET_RAW",sandbox="sbA"} 1');
    expect(full.body).not.toContain('capability="CHOWN"');
    const trimmed = await get(s.target, '/metrics?runsc-capability-filter=^CHOWN$');
    expect(trimmed.body).toContain('capability="CHOWN"');
    expect(trimmed.body).not.toContain('capability="NET_RAW"');
    expectPromtoolAccepts(full.body);
    expectPromtoolAccepts(trimmed.body);
  });

  it('rewrites /metrics%3F... (decoded twice) and replaces the real query', async () => {
    const s = await startTestServer({}, fleet());
    const res = await get(s.target, '/metrics%3Frunsc-sandbox-metrics-filter=%5E%24?runsc-sandbox-metrics-filter=(');
    expect(res.status).toBe(200);
    expect(res.body).toContain('(filtered using regular expression: "^$")');
    expect(res.body).not.toContain('runsc_fs_opens');
    expectPromtoolAccepts(res.body);
    // %2524 -> %24 -> $ : two rounds of decoding.
    const twice = await get(s.target, '/metrics%3Frunsc-sandbox-metrics-filter=fs_opens%2524');
    expect(twice.body).toContain('(filtered using regular expression: "fs_opens$")');
    expectPromtoolAccepts(twice.body);
  });

  it('lets an in-flight scrape finish during a graceful shutdown', async () => {
    const backend = new FakeBackend([new FakeTarget({ id: 'slow', delayMs: 600 })]);
    const s = await startTestServer({}, backend);
    const inflight = get(s.target, '/metrics');
    await new Promise((r) => setTimeout(r, 100));
    const closing = s.handle.close('test');
    const res = await inflight;
    expect(res.status).toBe(200);
    expectPromtoolAccepts(res.body);
    await closing;
  });

  it('answers 500 and logs when a handler throws, and keeps serving', async () => {
    const backend = new FakeBackend();
    backend.targets = () => {
      throw new Error('boom in backend');
    };
    const s = await startTestServer({}, backend);
    const res = await get(s.target, '/metrics');
    expectGoError(res, 500, 'internal server error\n');
    expect(s.log.records().some((r) => r.msg === 'handler failed' && r.error === 'boom in backend')).toBe(true);
    expect((await get(s.target, '/')).status).toBe(200);
  });

  it('logs every request as one structured line', async () => {
    const s = await startTestServer();
    await get(s.target, '/nope');
    await new Promise((r) => setTimeout(r, 20));
    const line = s.log.records().find((r) => r.msg === 'request' && r.path === '/nope');
    expect(line).toMatchObject({ level: 'info', method: 'GET', status: 404 });
    expect(typeof line?.durationMs).toBe('number');
  });

  it('aborts the sandbox queries when the client goes away', async () => {
    const stuck = new FakeTarget({ id: 'stuck', delayMs: 'never' });
    const s = await startTestServer({ perSandboxTimeoutMs: 20_000 }, new FakeBackend([stuck]));
    const http = await import('node:http');
    const req = http.request({ host: '127.0.0.1', port: s.target.port, path: '/metrics' });
    req.on('error', () => {});
    req.end();
    await new Promise((r) => setTimeout(r, 150));
    expect(stuck.inFlight).toBe(1);
    req.destroy();
    const end = Date.now() + 2000;
    while (stuck.inFlight > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(stuck.inFlight).toBe(0);
  });

  it('refuses scrapes beyond --max-concurrent-scrapes with 429', async () => {
    const backend = new FakeBackend([new FakeTarget({ id: 'slow', delayMs: 500 })]);
    const s = await startTestServer({ maxConcurrentScrapes: 1 }, backend);
    const first = get(s.target, '/metrics');
    await new Promise((r) => setTimeout(r, 100));
    const second = await get(s.target, '/metrics');
    expectGoError(second, 429, 'too many concurrent scrapes (limit 1); retry later\n');
    expect(second.headers['retry-after']).toBe('1');
    const done = await first;
    expect(done.status).toBe(200);
    expectPromtoolAccepts(done.body);
  });
});

/** The router over `scraper` on an ephemeral port, as the server builds it. */
async function serveApp(scraper: Scraper, isShuttingDown: () => boolean): Promise<{ port: number; close: () => void }> {
  const config = resolveConfig({ root: '/r', metricServer: '127.0.0.1:0', allowProfiling: true });
  const app = { config, log: silentLogger, pid: 4242, scraper, profiler: createProfiler(), isShuttingDown };
  const server = http.createServer(
    createRequestListener({ log: silentLogger, route: buildRouter(app), inFlight: new InFlight() }),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, close: () => server.close() };
}

function fakeScraper(): Scraper {
  return new Scraper(new FakeBackend([new FakeTarget({ id: 'sbA' })]), {
    root: '/r',
    exporterPrefix: 'runsc_',
    perSandboxTimeoutMs: 1000,
    scrapeConcurrency: 4,
    scrapeDeadlineMs: 5000,
    startTimeSeconds: 1,
    log: silentLogger,
  });
}

describe('shutting down', () => {
  it('healthcheck and pid answer 503 and profile endpoints their own wording; /metrics still answers', async () => {
    const { port, close } = await serveApp(fakeScraper(), () => true);
    try {
      expectGoError(await get({ port }, '/runsc-metrics/healthcheck?root=/r'), 503, 'server is shutting down\n');
      expectGoError(await get({ port }, '/runsc-metrics/pid'), 503, 'server is shutting down\n');
      expectGoError(
        await get({ port }, '/runsc-metrics/profile-cpu?seconds=1'),
        503,
        'server is shutting down already\n',
      );
      expectGoError(await get({ port }, '/runsc-metrics/profile-heap'), 503, 'server is shutting down already\n');
      const metrics = await get({ port }, '/metrics');
      expect(metrics.status).toBe(200);
      expectPromtoolAccepts(metrics.body);
    } finally {
      close();
    }
  });
});

describe('/metrics body release', () => {
  it('lets go of the shared body once it is written, plain or gzipped, so the next scrape can reuse it', async () => {
    const scraper = fakeScraper();
    const outcomes: ScrapeOutcome[] = [];
    const scrape = scraper.scrape.bind(scraper);
    scraper.scrape = async (...args) => {
      const o = await scrape(...args);
      outcomes.push(o);
      return o;
    };
    const { port, close } = await serveApp(scraper, () => false);
    try {
      for (const headers of [{}, { 'Accept-Encoding': 'gzip' }] as Record<string, string>[]) {
        const res = await request({ port }, 'GET', '/metrics', { headers });
        expect(res.status).toBe(200);
        const o = outcomes.at(-1)!;
        await vi.waitFor(() => expect(() => o.text()).toThrow(ReleasedOutcomeError), { timeout: 2000 });
      }
      expect(outcomes).toHaveLength(2);
      expectPromtoolAccepts((await get({ port }, '/metrics')).body);
    } finally {
      close();
    }
  });
});
