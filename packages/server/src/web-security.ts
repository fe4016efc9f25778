// Applies a WebConfig to the HTTP layer: node:https options for the TLS
// settings, the client-certificate policies OpenSSL cannot express alone, and
// the per-request gate (configured headers, then basic auth -> 401).

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { BasicAuth, type BasicAuthOptions } from './basic-auth.js';
import type { TlsSettings, WebConfig } from './web-config.js';

/** true: go on to the routes; false: the gate has answered. */
export type RequestGate = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

export function httpsOptions(t: TlsSettings): HttpsServerOptions {
  const request = t.clientAuthType !== 'NoClientCert';
  return {
    cert: t.cert,
    key: t.key,
    ...(t.clientCa ? { ca: t.clientCa } : {}),
    minVersion: t.minVersion,
    maxVersion: t.maxVersion,
    honorCipherOrder: t.honorCipherOrder,
    requestCert: request,
    // OpenSSL rejects in the handshake only when a cert is both required and verified;
    // the other policies are judged after the handshake (clientCertRejection).
    rejectUnauthorized: t.clientAuthType === 'RequireAndVerifyClientCert',
  };
}

/** Why a completed handshake breaks the client-cert policy (the connection is then closed), or undefined. */
export function clientCertRejection(t: TlsSettings, socket: TLSSocket): string | undefined {
  const policy = t.clientAuthType;
  if (policy === 'NoClientCert' || policy === 'RequestClientCert' || policy === 'RequireAndVerifyClientCert')
    return undefined;
  const cert = socket.getPeerCertificate();
  const given = cert !== null && typeof cert === 'object' && Object.keys(cert).length > 0;
  if (policy === 'RequireAnyClientCert') return given ? undefined : 'no client certificate';
  // VerifyClientCertIfGiven
  return given && !socket.authorized
    ? `client certificate not trusted: ${String(socket.authorizationError)}`
    : undefined;
}

const UNAUTHORIZED_BODY = 'Unauthorized\n';

export function createRequestGate(
  config: WebConfig,
  authOptions?: BasicAuthOptions,
): { gate: RequestGate; auth: BasicAuth } {
  const auth = new BasicAuth(config.basicAuthUsers, authOptions);
  const headers = Object.entries(config.headers);
  const deny = (res: ServerResponse): false => {
    // Go's http.Error(w, "Unauthorized", 401) plus the challenge that makes clients send credentials.
    res.writeHead(401, {
      'WWW-Authenticate': 'Basic',
      'Content-Type': 'text/plain; charset=utf-8',
      'X-Content-Type-Options': 'nosniff',
      'Content-Length': Buffer.byteLength(UNAUTHORIZED_BODY),
    });
    res.end(UNAUTHORIZED_BODY);
    return false;
  };
  const gate: RequestGate = (req, res) => {
    for (const [name, value] of headers) res.setHeader(name, value);
    const verdict = auth.check(req.headers.authorization);
    if (verdict === true) return true;
    if (verdict === false) return deny(res);
    return verdict.then((ok) => ok || deny(res));
  };
  return { gate, auth };
}
