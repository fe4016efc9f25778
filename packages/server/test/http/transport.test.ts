import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { get } from '../support/http-client.js';
import { startTestServer } from '../support/server.js';

describe('slow clients', () => {
  it('closes a connection whose headers never complete (slowloris)', async () => {
    const s = await startTestServer({ httpLimits: { headersTimeoutMs: 500, requestTimeoutMs: 1000 } });
    const sock = net.connect({ host: '127.0.0.1', port: s.target.port as number });
    await new Promise((r) => sock.once('connect', r));
    sock.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
    let received = '';
    sock.on('data', (c) => (received += c));
    const t0 = Date.now();
    const closedAfter = await new Promise<number>((resolve) => {
      const drip = setInterval(() => sock.writable && sock.write('X-Slow: y\r\n'), 100);
      sock.once('close', () => {
        clearInterval(drip);
        resolve(Date.now() - t0);
      });
      sock.on('error', () => {});
    });
    expect(closedAfter).toBeLessThan(4000);
    expect(received).toMatch(/^HTTP\/1\.1 408/);
    // Everyone else is still served.
    expect((await get(s.target, '/')).status).toBe(200);
  });

  it('answers a malformed request with 400 and keeps serving', async () => {
    const s = await startTestServer();
    const sock = net.connect({ host: '127.0.0.1', port: s.target.port as number });
    await new Promise((r) => sock.once('connect', r));
    let received = '';
    sock.on('data', (c) => (received += c));
    sock.write('NOT HTTP AT ALL\r\n\r\n');
    await new Promise((r) => sock.once('close', r));
    expect(received).toMatch(/^HTTP\/1\.1 400 Bad Request/);
    expect((await get(s.target, '/')).status).toBe(200);
  });
});
