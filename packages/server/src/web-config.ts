// --web-config-file: the Prometheus exporter-toolkit web configuration (YAML):
// TLS server settings, basic-auth users with bcrypt hashes, extra response
// headers. Parsed strictly once at start-up (unknown keys, bad values, unreadable
// or mismatched cert/key are one WebConfigError line); no reload.

import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { createSecureContext, type SecureVersion } from 'node:tls';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from './config.js';

export class WebConfigError extends ConfigError {
  constructor(file: string, message: string) {
    super(`invalid --web-config-file ${JSON.stringify(file)}: ${message}`);
    this.name = 'WebConfigError';
  }
}

/** Go's tls.ClientAuthType names, as exporter-toolkit spells them. */
export type ClientAuthType =
  | 'NoClientCert'
  | 'RequestClientCert'
  | 'RequireAnyClientCert'
  | 'VerifyClientCertIfGiven'
  | 'RequireAndVerifyClientCert';

export interface TlsSettings {
  /** PEM bytes, read at start-up (relative paths resolve against the config file's directory). */
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly clientCa: Buffer | undefined;
  readonly clientAuthType: ClientAuthType;
  readonly minVersion: SecureVersion;
  readonly maxVersion: SecureVersion;
  readonly honorCipherOrder: boolean;
}

export interface WebConfig {
  /** The file it came from (for logs and errors). */
  readonly file: string;
  /** Undefined: plain HTTP (the file may still require basic auth). */
  readonly tls: TlsSettings | undefined;
  /** user -> bcrypt hash; empty: no authentication. */
  readonly basicAuthUsers: ReadonlyMap<string, string>;
  /** Added to every response. */
  readonly headers: Readonly<Record<string, string>>;
}

/** Reads files named by the config; injectable for unit tests. */
export type ReadFile = (path: string) => Buffer;

const TLS_VERSIONS: Record<string, SecureVersion> = {
  TLS10: 'TLSv1',
  TLS11: 'TLSv1.1',
  TLS12: 'TLSv1.2',
  TLS13: 'TLSv1.3',
};
const VERSION_ORDER: readonly SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
const CLIENT_AUTH: readonly ClientAuthType[] = [
  'NoClientCert',
  'RequestClientCert',
  'RequireAnyClientCert',
  'VerifyClientCertIfGiven',
  'RequireAndVerifyClientCert',
];
/** exporter-toolkit keys we recognise but do not implement: refused rather than silently ignored. */
const UNSUPPORTED: Record<string, string> = {
  cipher_suites: 'Go cipher-suite names have no OpenSSL equivalent here; remove it (Node/OpenSSL defaults apply)',
  curve_preferences: 'remove it (OpenSSL defaults apply)',
  client_allowed_sans: 'use a client CA that only issues to allowed clients',
  rate_limit: 'use --max-concurrent-scrapes',
};
const HEADER_NAMES = [
  'Content-Security-Policy',
  'X-Frame-Options',
  'X-Content-Type-Options',
  'X-XSS-Protection',
  'Strict-Transport-Security',
];
/** $2a$/$2b$/$2y$ (htpasswd writes 2y), cost 04..31, 22 chars of salt + 31 of hash. */
const BCRYPT_HASH = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;

/** Loads and validates a web config file (reads the cert/key/CA files it names and checks they pair). */
export function loadWebConfig(file: string, readFile: ReadFile = (p) => readFileSync(p)): WebConfig {
  let text: string;
  try {
    text = readFile(file).toString('utf8');
  } catch (err) {
    throw new WebConfigError(file, `cannot read it: ${(err as Error).message}`);
  }
  return parseWebConfig(text, file, readFile);
}

export function parseWebConfig(text: string, file: string, readFile: ReadFile = (p) => readFileSync(p)): WebConfig {
  const fail = (message: string): never => {
    throw new WebConfigError(file, message);
  };
  let doc: unknown;
  try {
    doc = parseYaml(text, { strict: true, uniqueKeys: true, prettyErrors: false, maxAliasCount: 10 });
  } catch (err) {
    fail(`not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) doc = {}; // an empty file is a valid, empty config (as Go's yaml)
  const top = mapping(doc, '', fail);
  onlyKeys(top, '', ['tls_server_config', 'http_server_config', 'basic_auth_users', 'rate_limit'], fail);
  if (top.rate_limit !== undefined) fail(`rate_limit is not supported: ${UNSUPPORTED.rate_limit}`);

  const baseDir = dirname(file);
  const tls =
    top.tls_server_config === undefined || top.tls_server_config === null
      ? undefined
      : parseTls(top.tls_server_config, baseDir, readFile, fail);

  const basicAuthUsers = new Map<string, string>();
  if (top.basic_auth_users !== undefined && top.basic_auth_users !== null) {
    const users = mapping(top.basic_auth_users, 'basic_auth_users', fail);
    for (const [user, hash] of Object.entries(users)) {
      if (typeof hash !== 'string' || !BCRYPT_HASH.test(hash)) {
        fail(
          `basic_auth_users.${user}: not a bcrypt hash (want $2y$<cost>$..., e.g. from \`htpasswd -nBC 10 "" | tr ` +
            `-d ':\\n'\`)`,
        );
      }
      if (user.includes(':'))
        fail(`basic_auth_users: user name ${JSON.stringify(user)} contains ':', which basic auth cannot carry`);
      basicAuthUsers.set(user, hash as string);
    }
  }

  const headers: Record<string, string> = {};
  if (top.http_server_config !== undefined && top.http_server_config !== null) {
    const hs = mapping(top.http_server_config, 'http_server_config', fail);
    onlyKeys(hs, 'http_server_config.', ['http2', 'headers'], fail);
    // http2 is accepted for compatibility; this server speaks HTTP/1.1 (Prometheus falls back to it).
    if (hs.http2 !== undefined && typeof hs.http2 !== 'boolean') fail('http_server_config.http2: want true or false');
    if (hs.headers !== undefined && hs.headers !== null) {
      const h = mapping(hs.headers, 'http_server_config.headers', fail);
      onlyKeys(h, 'http_server_config.headers.', HEADER_NAMES, fail);
      for (const [name, value] of Object.entries(h)) {
        if (typeof value !== 'string') fail(`http_server_config.headers.${name}: want a string`);
        const v = value as string;
        if (/[\r\n\0]/.test(v)) fail(`http_server_config.headers.${name}: control characters are not allowed`);
        if (v === '') continue; // blank means unset
        if (name === 'X-Frame-Options' && !/^(deny|sameorigin)$/i.test(v))
          fail(`http_server_config.headers.X-Frame-Options: want deny or sameorigin, got ${JSON.stringify(v)}`);
        if (name === 'X-Content-Type-Options' && !/^nosniff$/i.test(v))
          fail(`http_server_config.headers.X-Content-Type-Options: want nosniff, got ${JSON.stringify(v)}`);
        headers[name] = v;
      }
    }
  }
  return { file, tls, basicAuthUsers, headers };
}

function parseTls(
  value: unknown,
  baseDir: string,
  readFile: ReadFile,
  fail: (m: string) => never,
): TlsSettings | undefined {
  const t = mapping(value, 'tls_server_config', fail);
  onlyKeys(
    t,
    'tls_server_config.',
    [
      'cert',
      'key',
      'client_ca',
      'cert_file',
      'key_file',
      'client_ca_file',
      'client_auth_type',
      'min_version',
      'max_version',
      'prefer_server_cipher_suites',
      ...Object.keys(UNSUPPORTED).filter((k) => k !== 'rate_limit'),
    ],
    fail,
  );
  for (const k of ['cipher_suites', 'curve_preferences', 'client_allowed_sans']) {
    if (t[k] !== undefined && t[k] !== null) fail(`tls_server_config.${k} is not supported: ${UNSUPPORTED[k]}`);
  }
  const str = (k: string): string | undefined => {
    const v = t[k];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string') fail(`tls_server_config.${k}: want a string`);
    return v as string;
  };
  // exporter-toolkit: a tls_server_config with nothing set means plain HTTP.
  if (Object.values(t).every((v) => v === undefined || v === null || v === '')) return undefined;

  const pem = (inline: string, fileKey: string, what: string, required: boolean): Buffer | undefined => {
    const text = str(inline);
    const path = str(fileKey);
    if (text !== undefined && path !== undefined)
      fail(`tls_server_config: give either ${inline} or ${fileKey}, not both`);
    if (text !== undefined) return Buffer.from(text);
    if (path === undefined) {
      if (required) fail(`tls_server_config: missing ${fileKey} (the ${what})`);
      return undefined;
    }
    const full = isAbsolute(path) ? path : join(baseDir, path);
    try {
      return readFile(full);
    } catch (err) {
      return fail(
        `tls_server_config.${fileKey}: cannot read the ${what} ${JSON.stringify(full)}: ${(err as Error).message}`,
      );
    }
  };
  const cert = pem('cert', 'cert_file', 'server certificate', true) as Buffer;
  const key = pem('key', 'key_file', 'server private key', true) as Buffer;
  const clientCa = pem('client_ca', 'client_ca_file', 'client CA certificate', false);

  const authText = str('client_auth_type') ?? 'NoClientCert';
  if (!CLIENT_AUTH.includes(authText as ClientAuthType))
    fail(`tls_server_config.client_auth_type: want one of ${CLIENT_AUTH.join(', ')}, got ${JSON.stringify(authText)}`);
  const clientAuthType = authText as ClientAuthType;
  if (clientCa !== undefined && clientAuthType === 'NoClientCert') {
    fail(
      'tls_server_config: a client CA is configured but client_auth_type is NoClientCert (set ' +
        'RequireAndVerifyClientCert)',
    );
  }
  if (
    clientCa === undefined &&
    (clientAuthType === 'VerifyClientCertIfGiven' || clientAuthType === 'RequireAndVerifyClientCert')
  ) {
    fail(
      `tls_server_config: client_auth_type ${clientAuthType} needs client_ca_file to verify client certificates ` +
        `against`,
    );
  }
  const version = (k: string, def: SecureVersion): SecureVersion => {
    const v = str(k);
    if (v === undefined) return def;
    const mapped = TLS_VERSIONS[v];
    if (mapped === undefined)
      fail(`tls_server_config.${k}: want one of ${Object.keys(TLS_VERSIONS).join(', ')}, got ${JSON.stringify(v)}`);
    return mapped as SecureVersion;
  };
  const minVersion = version('min_version', 'TLSv1.2');
  const maxVersion = version('max_version', 'TLSv1.3');
  if (VERSION_ORDER.indexOf(minVersion) > VERSION_ORDER.indexOf(maxVersion))
    fail('tls_server_config: min_version is above max_version');
  const prefer = t.prefer_server_cipher_suites;
  if (prefer !== undefined && prefer !== null && typeof prefer !== 'boolean')
    fail('tls_server_config.prefer_server_cipher_suites: want true or false');

  // Building a context proves now, not at the first handshake, that the PEMs parse and the key fits the cert.
  try {
    createSecureContext({ cert, key, ...(clientCa ? { ca: clientCa } : {}), minVersion, maxVersion });
  } catch (err) {
    fail(`tls_server_config: the certificate, key or client CA is unusable: ${(err as Error).message}`);
  }
  return { cert, key, clientCa, clientAuthType, minVersion, maxVersion, honorCipherOrder: prefer !== false };
}

function mapping(value: unknown, where: string, fail: (m: string) => never): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(`${where === '' ? 'the document' : where}: want a mapping of keys to values`);
  }
  return value as Record<string, unknown>;
}

function onlyKeys(
  m: Record<string, unknown>,
  prefix: string,
  allowed: readonly string[],
  fail: (m: string) => never,
): void {
  for (const k of Object.keys(m)) {
    if (!allowed.includes(k)) fail(`unknown key ${JSON.stringify(prefix + k)} (allowed here: ${allowed.join(', ')})`);
  }
}
