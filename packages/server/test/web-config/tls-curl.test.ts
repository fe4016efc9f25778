// --web-config-file end to end through the real curl and openssl: HTTPS with a
// CA-signed certificate, basic auth (401 + challenge), configured headers,
// client certificates, TLS versions, a unix socket, and the CLI's start-up error.

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, describe, expect, it } from 'vitest';
import { makePki } from '../../../../test-support/tls-pki.js';
import { cliBundle } from '../support/cli-bundle.js';
import { expectPromtoolAccepts } from '../support/promtool.js';
import { startTestServer, tempDir } from '../support/server.js';

const pki = makePki(mkdtempSync(join(tmpdir(), 'ms-tls-')));
afterAll(() => rmSync(pki.dir, { recursive: true, force: true }));
const PASSWORD = 'correct horse';
const HASH = bcrypt.hashSync(PASSWORD, 6);

interface CurlResult {
  /** curl's exit code: 0, or why the transfer failed (7 refused, 35 TLS, 52 empty reply, 60 untrusted cert, ...). */
  code: number;
  status: number | undefined;
  headers: Record<string, string>;
  body: string;
  stderr: string;
}

/** Runs curl asynchronously (the server under test lives in this process). */
function curl(args: string[]): Promise<CurlResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'curl',
      ['-sS', '-i', '--max-time', '15', ...args],
      { encoding: 'utf8', timeout: 20_000 },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') {
          reject(
            new Error(
              `curl is needed by this test (apt-get install curl; scripts/install-system-deps.sh does): ${err.message}`,
            ),
          );
          return;
        }
        const code = err ? Number(err.code) : 0;
        const split = stdout.indexOf('\r\n\r\n');
        const head = split < 0 ? '' : stdout.slice(0, split);
        const lines = head.split('\r\n');
        const m = /^HTTP\/[\d.]+ (\d{3})/.exec(lines[0] ?? '');
        const headers: Record<string, string> = {};
        for (const l of lines.slice(1)) {
          const i = l.indexOf(':');
          if (i > 0) headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
        }
        resolve({
          code,
          status: m ? Number(m[1]) : undefined,
          headers,
          body: split < 0 ? '' : stdout.slice(split + 4),
          stderr,
        });
      },
    );
  });
}

function webConfig(text: string): string {
  const dir = tempDir('ms-webcfg-');
  const file = join(dir, 'web.yml');
  writeFileSync(file, text);
  return file;
}

const tlsBlock = `tls_server_config:\n  cert_file: ${pki.serverCert}\n  key_file: ${pki.serverKey}\n`;
const authBlock = `basic_auth_users:\n  prometheus: '${HASH}'\n`;
const headersBlock =
  'http_server_config:\n  headers:\n    X-Frame-Options: deny\n    Strict-Transport-Security: max-age=63072000\n';

describe('TLS + basic auth on TCP', () => {
  async function server() {
    const s = await startTestServer({ webConfigFile: webConfig(tlsBlock + authBlock + headersBlock) });
    return `https://127.0.0.1:${s.handle.port}`;
  }

  it('curl trusting the CA with the right password gets 200 and a promtool-valid body', async () => {
    const url = await server();
    const r = await curl(['--cacert', pki.caCert, '-u', `prometheus:${PASSWORD}`, `${url}/metrics`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(r.headers['x-frame-options']).toBe('deny');
    expect(r.headers['strict-transport-security']).toBe('max-age=63072000');
    expect(r.body).toContain('process_start_time_seconds');
    expectPromtoolAccepts(r.body);
    // The healthcheck is behind the same gate and works over TLS.
    const h = await curl(['--cacert', pki.caCert, '-u', `prometheus:${PASSWORD}`, `${url}/runsc-metrics/pid`]);
    expect([h.status, h.body]).toEqual([200, String(process.pid)]);
  });

  it('a wrong password, an unknown user or no credentials get 401 with a Basic challenge', async () => {
    const url = await server();
    for (const creds of [['-u', 'prometheus:wrong'], ['-u', `admin:${PASSWORD}`], []]) {
      const r = await curl(['--cacert', pki.caCert, ...creds, `${url}/metrics`]);
      expect(r.code).toBe(0);
      expect(r.status).toBe(401);
      expect(r.headers['www-authenticate']).toBe('Basic');
      expect(r.headers['x-frame-options']).toBe('deny'); // configured headers are on every answer
      expect(r.body).toBe('Unauthorized\n');
      expect(r.body).not.toContain('process_start_time_seconds');
    }
  });

  it("plain HTTP to the TLS port gets Go's 400 telling the client to use HTTPS, and no metrics", async () => {
    const url = await server();
    const r = await curl(['-u', `prometheus:${PASSWORD}`, `${url.replace('https:', 'http:')}/metrics`]);
    expect(r.code).toBe(0);
    expect(r.status).toBe(400);
    expect(r.body).toBe('Client sent an HTTP request to an HTTPS server.\n');
  });

  it('a client that does not trust the CA refuses the certificate (curl exit 60)', async () => {
    const url = await server();
    const r = await curl(['-u', `prometheus:${PASSWORD}`, `${url}/metrics`]);
    expect(r.code).toBe(60);
    expect(r.status).toBeUndefined();
  });
});

describe('other web-config combinations', () => {
  it('basic auth without TLS guards plain HTTP', async () => {
    const s = await startTestServer({ webConfigFile: webConfig(authBlock) });
    const url = `http://127.0.0.1:${s.handle.port}/metrics`;
    expect((await curl([url])).status).toBe(401);
    expect((await curl(['-u', 'prometheus:nope', url])).status).toBe(401);
    const ok = await curl(['-u', `prometheus:${PASSWORD}`, url]);
    expect(ok.status).toBe(200);
    expectPromtoolAccepts(ok.body);
  });

  it('RequireAndVerifyClientCert: a client certificate from the CA is required', async () => {
    const s = await startTestServer({
      webConfigFile: webConfig(
        `${tlsBlock}  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ${pki.caCert}\n`,
      ),
    });
    const url = `https://127.0.0.1:${s.handle.port}/metrics`;
    const ok = await curl(['--cacert', pki.caCert, '--cert', pki.clientCert, '--key', pki.clientKey, url]);
    expect(ok.status).toBe(200);
    // Without one the TLS 1.3 handshake is cut (curl 56: recv failure; some builds report 35).
    const refused = await curl(['--cacert', pki.caCert, url]);
    expect(refused.code).not.toBe(0);
    expect(refused.status).toBeUndefined();
    // A self-presented certificate the CA did not sign (the server's own) is refused too.
    const foreign = await curl(['--cacert', pki.caCert, '--cert', pki.serverCert, '--key', pki.serverKey, url]);
    expect(foreign.status).toBeUndefined();
  });

  it('RequireAnyClientCert: any certificate, even one no CA vouches for; none is refused', async () => {
    const s = await startTestServer({
      webConfigFile: webConfig(`${tlsBlock}  client_auth_type: RequireAnyClientCert\n`),
    });
    const url = `https://127.0.0.1:${s.handle.port}/metrics`;
    expect((await curl(['--cacert', pki.caCert, url])).status).toBeUndefined();
    // The server's own cert (not a client cert of the CA, and not checked) is enough here.
    expect((await curl(['--cacert', pki.caCert, '--cert', pki.serverCert, '--key', pki.serverKey, url])).status).toBe(
      200,
    );
    expect(s.log.lines.some((l) => l.includes('refused by the client certificate policy'))).toBe(true);
  });

  it('VerifyClientCertIfGiven: no certificate is fine, a valid one is fine, an untrusted one is refused', async () => {
    const s = await startTestServer({
      webConfigFile: webConfig(
        `${tlsBlock}  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: ${pki.caCert}\n`,
      ),
    });
    const url = `https://127.0.0.1:${s.handle.port}/metrics`;
    expect((await curl(['--cacert', pki.caCert, url])).status).toBe(200);
    expect((await curl(['--cacert', pki.caCert, '--cert', pki.clientCert, '--key', pki.clientKey, url])).status).toBe(
      200,
    );
    const selfSigned = join(tempDir('ms-self-'), 'self');
    await new Promise<void>((resolve, reject) =>
      execFile(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:P-256',
          '-nodes',
          '-subj',
          '/CN=stranger',
          '-days',
          '1',
          '-keyout',
          `${selfSigned}.key`,
          '-out',
          `${selfSigned}.crt`,
        ],
        (err) => (err ? reject(err) : resolve()),
      ),
    );
    expect(
      (await curl(['--cacert', pki.caCert, '--cert', `${selfSigned}.crt`, '--key', `${selfSigned}.key`, url])).status,
    ).toBeUndefined();
  });

  it('min_version TLS13 refuses a TLS 1.2-only client', async () => {
    const s = await startTestServer({ webConfigFile: webConfig(`${tlsBlock}  min_version: TLS13\n`) });
    const url = `https://127.0.0.1:${s.handle.port}/metrics`;
    expect((await curl(['--cacert', pki.caCert, '--tls-max', '1.2', url])).status).toBeUndefined();
    expect((await curl(['--cacert', pki.caCert, '--tlsv1.3', url])).status).toBe(200);
  });

  it('TLS and basic auth on a unix socket (both legal there)', async () => {
    const dir = tempDir('ms-sock-');
    const sock = join(dir, 'm.sock');
    await startTestServer({ metricServer: sock, webConfigFile: webConfig(tlsBlock + authBlock) });
    const base = ['--unix-socket', sock, '--cacert', pki.caCert];
    expect((await curl([...base, 'https://localhost/metrics'])).status).toBe(401);
    const ok = await curl([...base, '-u', `prometheus:${PASSWORD}`, 'https://localhost/metrics']);
    expect(ok.status).toBe(200);
    expectPromtoolAccepts(ok.body);
  });
});

describe('the CLI with a bad --web-config-file', () => {
  function runCli(args: string[]): Promise<{ code: number | null; stderr: string }> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [cliBundle(), ...args],
        { encoding: 'utf8', timeout: 20_000 },
        (err, _stdout, stderr) => {
          resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stderr });
        },
      );
    });
  }

  it.each([
    ['an unknown key', 'tls_server_config:\n  certfile: x\n', /unknown key "tls_server_config\.certfile"/],
    [
      'a plain-text password',
      'basic_auth_users:\n  prometheus: hunter2\n',
      /basic_auth_users\.prometheus: not a bcrypt hash/,
    ],
    ['a missing file', undefined, /cannot read it: ENOENT/],
  ])('%s: exit 128 with one line naming the file, nothing bound', async (_name, text, pattern) => {
    const dir = tempDir('ms-cli-');
    const file = join(dir, 'web.yml');
    if (text !== undefined) writeFileSync(file, text);
    const sock = join(dir, 'm.sock');
    const r = await runCli([`--root=${dir}`, `--metric-server=${sock}`, 'metric-server', `--web-config-file=${file}`]);
    expect(r.code).toBe(128);
    const lines = r.stderr.trimEnd().split('\n');
    const last = lines.at(-1) ?? '';
    expect(last.startsWith(`runsc-metric-server: invalid --web-config-file ${JSON.stringify(file)}: `)).toBe(true);
    expect(last).toMatch(pattern);
    expect(lines.filter((l) => l.startsWith('runsc-metric-server:'))).toHaveLength(1);
    const { existsSync } = await import('node:fs');
    expect(existsSync(sock)).toBe(false);
  });
});
