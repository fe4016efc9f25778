// Plain HTTP sent to a TLS listener gets Go's bare 400; real TLS clients (fast
// or byte-by-byte), idle clients and shutdown are unaffected.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makePki } from '../../../../test-support/tls-pki.js';
import { classifyFirstBytes, PLAINTEXT_ON_TLS_RESPONSE } from '../../src/tls-sniff.js';
import { onCleanup, startTestServer, tempDir } from '../support/server.js';

const pki = makePki(mkdtempSync(join(tmpdir(), 'ms-sniff-')));
afterAll(() => rmSync(pki.dir, { recursive: true, force: true }));
const caPem = readFileSync(pki.caCert, 'utf8');

function tlsConfigFile(): string {
  const file = join(tempDir('ms-sniff-cfg-'), 'web.yml');
  writeFileSync(file, `tls_server_config:\n  cert_file: ${pki.serverCert}\n  key_file: ${pki.serverKey}\n`);
  return file;
}

type Target = { port: number } | { path: string };

/** Sends `chunks` (with `gapMs` between them) and collects everything until the server closes. */
function rawExchange(
  target: Target,
  chunks: string[],
  gapMs = 0,
): Promise<{ received: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const sock =
      'port' in target ? net.connect({ host: '127.0.0.1', port: target.port }) : net.connect({ path: target.path });
    let received = '';
    const guard = setTimeout(() => {
      sock.destroy();
      reject(new Error(`server did not close within 15 s; got ${JSON.stringify(received)}`));
    }, 15_000);
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => (received += d));
    sock.on('error', () => {}); // a reset still ends in 'close'
    sock.on('close', () => {
      clearTimeout(guard);
      resolve({ received, closedAfterMs: Date.now() - started });
    });
    sock.on('connect', async () => {
      for (const c of chunks) {
        if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
        if (!sock.destroyed) sock.write(c);
      }
    });
  });
}

function httpsGet(port: number, path: string): Promise<{ status: number | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path, ca: caPem, timeout: 10_000, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('timeout', () => req.destroy(new Error('https request timed out')));
    req.on('error', reject);
  });
}

/** A TCP relay that forwards the client's bytes to `port` one byte at a time, `gapMs` apart. */
async function byteByByteRelay(port: number, gapMs: number): Promise<number> {
  const relay = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    upstream.pipe(client);
    // One write per byte, in order: a queue owned by this connection's 'data' handler and drain loop.
    const pending: number[] = [];
    let draining = false;
    const drain = async (): Promise<void> => {
      draining = true;
      while (pending.length > 0 && !upstream.destroyed) {
        upstream.write(Buffer.of(pending.shift() as number));
        await new Promise((r) => setTimeout(r, gapMs));
      }
      draining = false;
    };
    client.on('data', (d: Buffer) => {
      pending.push(...d);
      if (!draining) void drain();
    });
    client.on('end', () => upstream.end());
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
  onCleanup(() => new Promise<void>((r) => relay.close(() => r())));
  const a = relay.address();
  if (a === null || typeof a !== 'object') throw new Error('relay has no port');
  return a.port;
}

describe('classifyFirstBytes', () => {
  it.each([
    ['\x16\x03\x01', 'tls'],
    ['\x16', 'tls'],
    ['GET /', 'http'],
    ['GET /metrics HTTP/1.1', 'http'],
    ['HEAD ', 'http'],
    ['POST /x', 'http'],
    ['PUT /', 'http'],
    ['OPTIONS * HTTP/1.1', 'http'],
    ['G', 'undecided'],
    ['GET ', 'undecided'],
    ['OPTI', 'undecided'],
    ['', 'undecided'],
    // Go's check is these five prefixes and nothing else; other text fails as TLS.
    ['DELETE /', 'tls'],
    ['GET x', 'tls'],
    ['get /', 'tls'],
  ])('%j -> %s', (text, verdict) => {
    expect(classifyFirstBytes(Buffer.from(text, 'latin1'))).toBe(verdict);
  });
});

describe('plain HTTP to a TLS listener', () => {
  it('gets the exact 400 Go sends and is closed', async () => {
    const s = await startTestServer({ webConfigFile: tlsConfigFile() });
    const port = s.handle.port as number;
    const r = await rawExchange({ port }, ['GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n']);
    expect(r.received).toBe(PLAINTEXT_ON_TLS_RESPONSE);
    expect(r.received).toBe('HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n');
    // The server stays healthy for real TLS clients afterwards.
    expect((await httpsGet(port, '/runsc-metrics/pid')).body).toBe(String(process.pid));
  });

  it('also when the request arrives one byte at a time', async () => {
    const s = await startTestServer({ webConfigFile: tlsConfigFile() });
    const r = await rawExchange({ port: s.handle.port as number }, [...'HEAD / HTTP/1.0\r\n\r\n'], 20);
    expect(r.received).toBe(PLAINTEXT_ON_TLS_RESPONSE);
  });

  it('on a unix socket too', async () => {
    const path = join(tempDir('ms-sniff-sock-'), 'm.sock');
    await startTestServer({ metricServer: path, webConfigFile: tlsConfigFile() });
    const r = await rawExchange({ path }, ['GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n']);
    expect(r.received).toBe(PLAINTEXT_ON_TLS_RESPONSE);
  });

  it('bytes that are neither HTTP nor TLS get no answer and a closed connection', async () => {
    const s = await startTestServer({ webConfigFile: tlsConfigFile() });
    const r = await rawExchange({ port: s.handle.port as number }, ['SSH-2.0-OpenSSH_9.2\r\n']);
    expect(r.received).not.toContain('HTTP/');
  });
});

describe('TLS clients are unaffected', () => {
  it('a real https request succeeds', async () => {
    const s = await startTestServer({ webConfigFile: tlsConfigFile() });
    const r = await httpsGet(s.handle.port as number, '/metrics');
    expect(r.status).toBe(200);
    expect(r.body).toContain('process_start_time_seconds');
  });

  it('a handshake that trickles in one byte at a time still succeeds', async () => {
    const s = await startTestServer({ webConfigFile: tlsConfigFile() });
    // 2 ms per byte over a ~300-byte ClientHello: the sniffer sees several tiny chunks.
    const relayPort = await byteByByteRelay(s.handle.port as number, 2);
    const r = await httpsGet(relayPort, '/runsc-metrics/pid');
    expect([r.status, r.body]).toEqual([200, String(process.pid)]);
  });
});

describe('idle connections', () => {
  it('a client that sends nothing is closed after the header timeout', async () => {
    const s = await startTestServer({ webConfigFile: tlsConfigFile(), httpLimits: { headersTimeoutMs: 500 } });
    const r = await rawExchange({ port: s.handle.port as number }, []);
    expect(r.received).toBe('');
    expect(r.closedAfterMs).toBeGreaterThanOrEqual(400);
    expect(r.closedAfterMs).toBeLessThan(5000);
  });

  it('a client that sent a partial method and stopped is closed after the header timeout', async () => {
    const s = await startTestServer({ webConfigFile: tlsConfigFile(), httpLimits: { headersTimeoutMs: 500 } });
    const r = await rawExchange({ port: s.handle.port as number }, ['GE']);
    expect(r.received).toBe('');
    expect(r.closedAfterMs).toBeGreaterThanOrEqual(400);
    expect(r.closedAfterMs).toBeLessThan(5000);
  });

  it('a client that started a TLS handshake and stalled is closed after the header timeout, not after the 120 s TLS default', async () => {
    const s = await startTestServer({ webConfigFile: tlsConfigFile(), httpLimits: { headersTimeoutMs: 500 } });
    // A TLS record header (handshake, TLS 1.0 version) announcing a body that never comes.
    const r = await rawExchange({ port: s.handle.port as number }, ['\x16\x03\x01\x00\x40']);
    expect(r.closedAfterMs).toBeGreaterThanOrEqual(400);
    expect(r.closedAfterMs).toBeLessThan(5000);
  });

  it('shutdown does not wait for a connection still being sniffed', async () => {
    const s = await startTestServer({ webConfigFile: tlsConfigFile(), httpLimits: { headersTimeoutMs: 30_000 } });
    const idle = rawExchange({ port: s.handle.port as number }, []);
    await new Promise((r) => setTimeout(r, 100)); // let the server accept it
    const started = Date.now();
    await s.handle.close('test');
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await idle).closedAfterMs).toBeLessThan(10_000);
  });
});
