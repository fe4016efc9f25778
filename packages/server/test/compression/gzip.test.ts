// /metrics compressed for scrapers that accept gzip, plain for the others.
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { acceptsGzip } from '../../src/negotiate.js';
import { FakeBackend, FakeTarget } from '../support/fake-backend.js';
import { request } from '../support/http-client.js';
import { expectPromtoolAccepts } from '../support/promtool.js';
import { startTestServer } from '../support/server.js';

/** Raw bytes of a response (the shared client decodes to a string, which would mangle gzip). */
function rawGet(
  port: number,
  headers: Record<string, string>,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/metrics', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** Sample lines without value and timestamp, comments without the snapshot times: what must not change. */
const shape = (text: string): string[] =>
  text
    .split('\n')
    .map((l) => (l.startsWith('#') ? l.replace(/taken at .*/, 'taken at T') : l.replace(/ \S+ \d+$/, ' V T')));

function fleet(n: number): FakeBackend {
  return new FakeBackend(Array.from({ length: n }, (_, i) => new FakeTarget({ id: `sb-${i}` })));
}

describe('gzip on /metrics', () => {
  it("compresses for Prometheus-like clients; the decompressed body has the plain one's shape", async () => {
    const s = await startTestServer({}, fleet(20));
    const port = s.target.port!;
    const plain = await rawGet(port, {});
    const zipped = await rawGet(port, { 'Accept-Encoding': 'gzip' });
    expect(plain.status).toBe(200);
    expect(zipped.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers.vary).toMatch(/Accept-Encoding/);
    expect(plain.headers.vary).toMatch(/Accept-Encoding/);
    const unzipped = gunzipSync(zipped.body).toString('utf8');
    const plainText = plain.body.toString('utf8');
    expectPromtoolAccepts(unzipped);
    expectPromtoolAccepts(plainText);
    expect(shape(unzipped).sort()).toEqual(shape(plainText).sort());
    expect(zipped.body.length).toBeLessThan(plain.body.length / 3);
    // Prometheus' exact header.
    const prom = await rawGet(port, { 'Accept-Encoding': 'gzip', Accept: 'text/plain;version=0.0.4;q=1,*/*;q=0.1' });
    expect(prom.headers['content-encoding']).toBe('gzip');
    expectPromtoolAccepts(gunzipSync(prom.body));
  });

  it('sends plain text to clients that do not accept gzip or refuse it', async () => {
    const s = await startTestServer({}, fleet(2));
    for (const ae of ['identity', 'gzip;q=0', 'br', 'deflate']) {
      const res = await request(s.target, 'GET', '/metrics', { headers: { 'Accept-Encoding': ae } });
      expect(res.headers['content-encoding'], ae).toBeUndefined();
      expect(res.body).toContain('# End of metric data.');
      expectPromtoolAccepts(res.body);
    }
  });

  it('a HEAD with gzip accepted sends the headers and no body', async () => {
    const s = await startTestServer({}, fleet(2));
    const res = await request(s.target, 'HEAD', '/metrics', { headers: { 'Accept-Encoding': 'gzip' } });
    expect(res.status).toBe(200);
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(res.body).toBe('');
  });

  it('streams a large body through the compressor with backpressure (slow reader gets it whole)', async () => {
    // 400 sandboxes x ~2 series: several writer chunks, so drain waits happen.
    const s = await startTestServer({}, fleet(400));
    const port = s.target.port!;
    const body = await new Promise<Buffer>((resolve, reject) => {
      const req = http.get(
        { host: '127.0.0.1', port, path: '/metrics', headers: { 'Accept-Encoding': 'gzip' }, agent: false },
        (res) => {
          const chunks: Buffer[] = [];
          res.pause();
          // Read slowly: one chunk every few ms.
          const t = setInterval(() => {
            let c: Buffer | null;
            while ((c = res.read() as Buffer | null) !== null) chunks.push(c);
          }, 5);
          res.on('end', () => {
            clearInterval(t);
            resolve(Buffer.concat(chunks));
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
    });
    const text = gunzipSync(body).toString('utf8');
    expect(text.endsWith('# End of metric data.\n')).toBe(true);
    expect(text.match(/^runsc_fs_opens\{/gm)?.length).toBe(400);
    expectPromtoolAccepts(text);
  });
});

describe('acceptsGzip', () => {
  it.each([
    ['gzip', true],
    ['gzip, deflate, br', true],
    ['x-gzip', true],
    ['*', true],
    ['*;q=0', false],
    ['gzip;q=0, *', false],
    ['GZIP;Q=0.5', true],
    ['identity', false],
    ['', false],
    [undefined, false],
  ])('%s -> %s', (h, want) => {
    expect(acceptsGzip(h)).toBe(want);
  });
});
