// /metrics in OpenMetrics 1.0.0 for scrapers that prefer it (with --openmetrics),
// Prometheus text 0.0.4 otherwise; gzip applies to both.
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/args.js';
import { configFromFlags } from '../../src/config.js';
import { negotiateFormat } from '../../src/negotiate.js';
import { FakeBackend, FakeTarget } from '../support/fake-backend.js';
import { request } from '../support/http-client.js';
import { expectValidOpenMetrics } from '../support/openmetrics.js';
import { expectPromtoolAccepts } from '../support/promtool.js';
import { startTestServer } from '../support/server.js';

/** What Prometheus 2.42 sends by default. */
const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
const OM_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

function fleet(n: number): FakeBackend {
  return new FakeBackend(
    Array.from(
      { length: n },
      (_, i) => new FakeTarget({ id: `sb-${i}`, labels: { sandbox: `sb-${i}`, pod_name: 'p"o\\d' } }),
    ),
  );
}

describe('OpenMetrics on /metrics', () => {
  it("serves valid OpenMetrics to Prometheus' Accept, with _total counters, seconds timestamps and # EOF", async () => {
    const s = await startTestServer({ openMetrics: true }, fleet(3));
    const res = await request(s.target, 'GET', '/metrics', { headers: { Accept: PROMETHEUS_ACCEPT } });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(OM_TYPE);
    expect(res.headers.vary).toBe('Accept, Accept-Encoding');
    const fams = expectValidOpenMetrics(res.body);
    const byName = new Map(fams.map((f) => [f.name, f]));
    const opens = byName.get('runsc_fs_opens');
    expect(opens?.type).toBe('counter');
    expect(opens?.samples.map((x) => x.name)).toEqual([
      'runsc_fs_opens_total',
      'runsc_fs_opens_total',
      'runsc_fs_opens_total',
    ]);
    expect(opens?.samples[0]?.labels.pod_name).toBe('p"o\\d');
    // The meta counter num_sandboxes_total keeps its sample name; its family drops the suffix.
    const total = byName.get('runsc_meta_num_sandboxes');
    expect(total?.samples).toMatchObject([{ name: 'runsc_meta_num_sandboxes_total', value: 3 }]);
    // Seconds, not milliseconds (the parser rejects ms-looking values too).
    const ts = opens!.samples[0]!.timestamp!;
    expect(Math.abs(ts - Date.now() / 1000)).toBeLessThan(60);
    // No comment lines but the standard ones.
    expect(res.body).not.toMatch(/^# (?!HELP |TYPE |EOF$)/m);
    expect(res.body.endsWith('# EOF\n')).toBe(true);
  });

  it('gzip and OpenMetrics together', async () => {
    const s = await startTestServer({ openMetrics: true }, fleet(2));
    const http = await import('node:http');
    const body = await new Promise<Buffer>((resolve, reject) => {
      http
        .get(
          {
            host: '127.0.0.1',
            port: s.target.port,
            path: '/metrics',
            headers: { Accept: PROMETHEUS_ACCEPT, 'Accept-Encoding': 'gzip' },
            agent: false,
          },
          (r) => {
            expect(r.headers['content-encoding']).toBe('gzip');
            expect(r.headers['content-type']).toBe(OM_TYPE);
            const c: Buffer[] = [];
            r.on('data', (x: Buffer) => c.push(x));
            r.on('end', () => resolve(Buffer.concat(c)));
          },
        )
        .on('error', reject);
    });
    expectValidOpenMetrics(gunzipSync(body));
  });

  it('keeps Prometheus text for clients without Accept, preferring text, or when --openmetrics is off', async () => {
    const on = await startTestServer({ openMetrics: true }, fleet(2));
    for (const accept of [
      undefined,
      'text/plain;version=0.0.4',
      '*/*',
      'application/openmetrics-text;q=0.4,text/plain;q=0.5',
    ]) {
      const res = await request(on.target, 'GET', '/metrics', {
        headers: accept === undefined ? {} : { Accept: accept },
      });
      expect(res.headers['content-type'], accept).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(res.body).toContain('# End of metric data.');
      expectPromtoolAccepts(res.body);
    }
    const off = await startTestServer({}, fleet(2));
    const res = await request(off.target, 'GET', '/metrics', { headers: { Accept: PROMETHEUS_ACCEPT } });
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expectPromtoolAccepts(res.body);
  });

  it('--openmetrics is a CLI flag, off by default', () => {
    const flags = (argv: string[]) => {
      const parsed = parseArgs(argv);
      if (parsed.kind !== 'run') throw new Error('unexpected --help');
      return configFromFlags(parsed.flags);
    };
    expect(flags(['--metric-server=:1', '--openmetrics']).openMetrics).toBe(true);
    expect(flags(['--metric-server=:1']).openMetrics).toBe(false);
  });
});

describe('negotiateFormat', () => {
  it.each([
    [PROMETHEUS_ACCEPT, 'openmetrics'],
    ['application/openmetrics-text', 'openmetrics'],
    ['application/openmetrics-text; version="1.0.0"; q=0.9, text/plain; q=0.9', 'openmetrics'],
    ['application/openmetrics-text;version=0.0.1', 'prometheus'],
    ['application/openmetrics-text;version=1.0.0;q=0', 'prometheus'],
    ['application/openmetrics-text;q=0.5, */*', 'prometheus'],
    ['text/plain;version=0.0.4;q=0.5,application/openmetrics-text;version=1.0.0;q=0.6', 'openmetrics'],
    ['*/*', 'prometheus'],
    ['garbage,,;;', 'prometheus'],
    ['APPLICATION/OPENMETRICS-TEXT;VERSION=1.0.0', 'openmetrics'],
    ['application/openmetrics-text;q=abc', 'prometheus'],
    [undefined, 'prometheus'],
  ])('%s -> %s', (accept, want) => {
    expect(negotiateFormat(accept)).toBe(want);
  });
});
