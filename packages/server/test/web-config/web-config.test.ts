import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, describe, expect, it } from 'vitest';
import { makePki } from '../../../../test-support/tls-pki.js';
import { ConfigError } from '../../src/config.js';
import { loadWebConfig, parseWebConfig, WebConfigError } from '../../src/web-config.js';
import { tempDir } from '../support/server.js';

// Made at collection time: the it.each table below names these files. One PKI for the whole file.
const pki = makePki(mkdtempSync(join(tmpdir(), 'ms-webcfg-')));
afterAll(() => rmSync(pki.dir, { recursive: true, force: true }));
const hash = bcrypt.hashSync('s3cret', 4);

const file = '/etc/web.yml';
const parse = (text: string) => parseWebConfig(text, file);
const failure = (text: string): string => {
  try {
    parse(text);
  } catch (e) {
    expect(e).toBeInstanceOf(WebConfigError);
    expect(e).toBeInstanceOf(ConfigError); // the CLI's one-line, exit-128 path
    const m = (e as Error).message;
    expect(m).not.toContain('\n');
    expect(m.startsWith(`invalid --web-config-file "${file}": `)).toBe(true);
    return m;
  }
  throw new Error('expected the config to be rejected');
};

describe('parseWebConfig: accepted shapes', () => {
  it('an empty file (or empty tls_server_config) means plain HTTP, no auth', () => {
    for (const text of ['', '# nothing\n', '{}', 'tls_server_config: {}\n', 'tls_server_config:\n']) {
      const c = parse(text);
      expect(c.tls).toBeUndefined();
      expect(c.basicAuthUsers.size).toBe(0);
      expect(c.headers).toEqual({});
    }
  });

  it('TLS with files (absolute and relative to the config file) and defaults TLS12..TLS13, NoClientCert', () => {
    const c = parse(`tls_server_config:\n  cert_file: ${pki.serverCert}\n  key_file: ${pki.serverKey}\n`);
    expect(c.tls).toMatchObject({
      clientAuthType: 'NoClientCert',
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.3',
      honorCipherOrder: true,
      clientCa: undefined,
    });
    expect(c.tls?.cert.toString()).toContain('BEGIN CERTIFICATE');
    const rel = join(pki.dir, 'web.yml');
    writeFileSync(rel, 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n');
    expect(loadWebConfig(rel).tls?.key.toString()).toContain('PRIVATE KEY');
  });

  it('inline PEMs, client certificates, versions, basic auth users and headers', () => {
    const indent = (p: string) => readFileSync(p, 'utf8').trim().split('\n').join('\n    ');
    const c = parse(
      [
        'tls_server_config:',
        `  cert: |\n    ${indent(pki.serverCert)}`,
        `  key: |\n    ${indent(pki.serverKey)}`,
        `  client_ca_file: ${pki.caCert}`,
        '  client_auth_type: RequireAndVerifyClientCert',
        '  min_version: TLS13',
        '  prefer_server_cipher_suites: false',
        'http_server_config:',
        '  http2: false',
        '  headers:',
        '    X-Frame-Options: deny',
        '    Strict-Transport-Security: max-age=31536000',
        '    X-XSS-Protection: ""',
        'basic_auth_users:',
        `  alice: ${hash}`,
        `  bob: '${hash.replace('$2b$', '$2y$')}'`,
      ].join('\n'),
    );
    expect(c.tls).toMatchObject({
      clientAuthType: 'RequireAndVerifyClientCert',
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
      honorCipherOrder: false,
    });
    expect(c.tls?.clientCa?.toString()).toContain('BEGIN CERTIFICATE');
    expect([...c.basicAuthUsers.keys()]).toEqual(['alice', 'bob']);
    expect(c.headers).toEqual({ 'X-Frame-Options': 'deny', 'Strict-Transport-Security': 'max-age=31536000' });
  });

  it('basic auth alone (no TLS) is accepted', () => {
    const c = parse(`basic_auth_users:\n  prometheus: ${hash}\n`);
    expect(c.tls).toBeUndefined();
    expect(c.basicAuthUsers.get('prometheus')).toBe(hash);
  });
});

describe('parseWebConfig: every mistake is one clear line', () => {
  const tls = (extra: string) =>
    `tls_server_config:\n  cert_file: ${pki.serverCert}\n  key_file: ${pki.serverKey}\n${extra}`;
  it.each([
    ['not YAML', 'tls_server_config: [unclosed', /not valid YAML/],
    ['a list at the top', '- a\n- b\n', /the document: want a mapping/],
    [
      'duplicate keys',
      `basic_auth_users:\n  a: ${`$2b$04$${'a'.repeat(53)}`}\n  a: x\n`,
      /not valid YAML.*[Mm]ap keys must be unique/,
    ],
    ['unknown top-level key', 'tls_config: {}\n', /unknown key "tls_config" \(allowed here: tls_server_config/],
    ['unknown tls key (typo)', 'tls_server_config:\n  certfile: a\n', /unknown key "tls_server_config.certfile"/],
    [
      'missing key_file',
      `tls_server_config:\n  cert_file: ${pki.serverCert}\n`,
      /missing key_file \(the server private key\)/,
    ],
    [
      'unreadable cert',
      'tls_server_config:\n  cert_file: /nonexistent/c.crt\n  key_file: /nonexistent/c.key\n',
      /cert_file: cannot read the server certificate "\/nonexistent\/c.crt": ENOENT/,
    ],
    [
      'both cert and cert_file',
      `tls_server_config:\n  cert: abc\n  cert_file: /a\n  key_file: /b\n`,
      /either cert or cert_file, not both/,
    ],
    [
      'bad client_auth_type',
      tls('  client_auth_type: Always\n'),
      /client_auth_type: want one of NoClientCert, .*got "Always"/,
    ],
    [
      'CA without a policy',
      tls('  client_ca_file: CA_PATH\n'),
      /client CA is configured but client_auth_type is NoClientCert/,
    ],
    ['verify without a CA', tls('  client_auth_type: RequireAndVerifyClientCert\n'), /needs client_ca_file/],
    [
      'bad min_version',
      tls('  min_version: TLS1.2\n'),
      /min_version: want one of TLS10, TLS11, TLS12, TLS13, got "TLS1.2"/,
    ],
    ['min above max', tls('  min_version: TLS13\n  max_version: TLS12\n'), /min_version is above max_version/],
    ['cipher_suites', tls('  cipher_suites: [TLS_AES_128_GCM_SHA256]\n'), /cipher_suites is not supported/],
    ['client_allowed_sans', tls('  client_allowed_sans: [a]\n'), /client_allowed_sans is not supported/],
    [
      'rate_limit',
      'rate_limit:\n  interval: 1s\n  burst: 2\n',
      /rate_limit is not supported: use --max-concurrent-scrapes/,
    ],
    [
      'a plain password instead of a hash',
      'basic_auth_users:\n  alice: hunter2\n',
      /basic_auth_users.alice: not a bcrypt hash/,
    ],
    ['a hash of the wrong shape', `basic_auth_users:\n  alice: '$2b$03$${'a'.repeat(53)}'\n`, /not a bcrypt hash/],
    [
      'unknown header',
      'http_server_config:\n  headers:\n    X-Powered-By: me\n',
      /unknown key "http_server_config.headers.X-Powered-By"/,
    ],
    ['bad X-Frame-Options', 'http_server_config:\n  headers:\n    X-Frame-Options: allow\n', /want deny or sameorigin/],
    [
      'bad X-Content-Type-Options',
      'http_server_config:\n  headers:\n    X-Content-Type-Options: sniff\n',
      /want nosniff/,
    ],
    ['http2 not a bool', 'http_server_config:\n  http2: yes please\n', /http2: want true or false/],
  ])('%s', (_name, text, pattern) => {
    expect(failure(text.replace('CA_PATH', pki.caCert))).toMatch(pattern);
  });

  it('a key that does not match the certificate is refused at start-up, not at the first handshake', () => {
    expect(failure(`tls_server_config:\n  cert_file: ${pki.serverCert}\n  key_file: ${pki.otherKey}\n`)).toMatch(
      /certificate, key or client CA is unusable: .*key values mismatch/,
    );
  });

  it('a garbage PEM is refused', () => {
    expect(failure(`tls_server_config:\n  cert: not a pem\n  key_file: ${pki.serverKey}\n`)).toMatch(/unusable/);
  });

  it('a missing config file names the file', () => {
    const dir = tempDir();
    expect(() => loadWebConfig(join(dir, 'nope.yml'))).toThrow(
      /invalid --web-config-file ".*nope.yml": cannot read it: ENOENT/,
    );
  });
});
