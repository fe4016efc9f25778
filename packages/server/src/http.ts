// The HTTP layer on node:http: canonical-path redirects, the request wrapper
// (one structured log line per request, 500 instead of a crash), the in-flight
// tracker shutdown waits on, and the transport timeouts against slow clients.

import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Logger } from './log.js';
import { guardPlaintextOnTls } from './tls-sniff.js';
import { cleanPath, escapePath, splitTarget, type UrlEscapeError, unescapeUrl } from './url.js';

export interface RequestInfo {
  readonly method: string;
  /** Decoded, canonical path (what was routed). */
  readonly path: string;
  /** Raw query string (still escaped). */
  readonly rawQuery: string;
  /** Aborted when the client goes away or shutdown gives up waiting. */
  readonly signal: AbortSignal;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, info: RequestInfo) => Promise<void> | void;

export const TEXT_PLAIN = 'text/plain; charset=utf-8';

/** Go's http.Error: status, text/plain, nosniff, message + "\n". */
export function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  extraHeaders?: Record<string, string>,
): void {
  const body = `${message}\n`;
  res.writeHead(status, {
    'Content-Type': TEXT_PLAIN,
    'X-Content-Type-Options': 'nosniff',
    'Content-Length': Buffer.byteLength(body),
    ...extraHeaders,
  });
  res.end(body);
}

export function sendBody(res: ServerResponse, status: number, body: string, contentType: string): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Requests in flight. Owned by the request listener (adds on entry, removes on
 * response close); shutdown only reads `size`/`idle()` and calls `abortAll()`.
 */
export class InFlight {
  private readonly active = new Set<AbortController>();
  private waiters: Array<() => void> = [];

  get size(): number {
    return this.active.size;
  }

  add(c: AbortController): void {
    this.active.add(c);
  }

  delete(c: AbortController): void {
    this.active.delete(c);
    if (this.active.size === 0) {
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    }
  }

  idle(): Promise<void> {
    if (this.active.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  abortAll(reason: string): void {
    for (const c of this.active) c.abort(new Error(reason));
  }
}

export interface HttpAppOptions {
  readonly log: Logger;
  readonly route: (path: string) => Handler;
  readonly inFlight: InFlight;
  /** Runs first on every request: true goes on to routing, false means it has answered (web-security.ts). */
  readonly gate?: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;
}

export function createRequestListener(opts: HttpAppOptions): http.RequestListener {
  const { log, route, inFlight, gate } = opts;
  return (req, res) => {
    const started = process.hrtime.bigint();
    const method = req.method ?? 'GET';
    const { rawPath, rawQuery } = splitTarget(req.url ?? '/');
    const controller = new AbortController();
    inFlight.add(controller);
    let loggedPath = rawPath;
    res.once('close', () => {
      inFlight.delete(controller);
      if (!res.writableFinished) controller.abort(new Error('client went away'));
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      log.info('request', {
        method,
        path: loggedPath,
        status: res.statusCode,
        durationMs: Math.round(durationMs * 10) / 10,
        ...(res.writableFinished ? {} : { aborted: true }),
      });
    });
    // The web config's gate (headers, basic auth) runs before anything else; a cache hit answers synchronously.
    if (gate) {
      let verdict: boolean | Promise<boolean>;
      try {
        verdict = gate(req, res);
      } catch (err) {
        onGateError(err);
        return;
      }
      if (verdict === false) return;
      if (verdict !== true) {
        verdict.then((ok) => ok && dispatch(), onGateError);
        return;
      }
    }
    dispatch();

    function onGateError(err: unknown): void {
      log.error('request gate failed', { method, error: err instanceof Error ? err.message : String(err) });
      if (!res.headersSent) sendError(res, 500, 'internal server error');
    }

    function dispatch(): void {
      let path: string;
      try {
        path = unescapeUrl(rawPath, false);
      } catch (err) {
        sendError(res, 400, `400 Bad Request: ${(err as UrlEscapeError).message}`);
        return;
      }
      loggedPath = path;
      const cleaned = cleanPath(path);
      if (cleaned !== path) {
        const location = escapePath(cleaned) + (rawQuery === '' ? '' : `?${rawQuery}`);
        const body =
          method === 'GET' || method === 'HEAD'
            ? `<a href="${location.replace(/"/g, '&quot;')}">Moved Permanently</a>.\n\n`
            : '';
        res.writeHead(301, {
          Location: location,
          'Content-Type': 'text/html; charset=utf-8',
          'Content-Length': Buffer.byteLength(body),
        });
        res.end(body);
        return;
      }
      const info: RequestInfo = { method, path, rawQuery, signal: controller.signal };
      let result: Promise<void> | void;
      try {
        result = route(path)(req, res, info);
      } catch (err) {
        onHandlerError(err);
        return;
      }
      if (result) result.catch(onHandlerError);

      function onHandlerError(err: unknown): void {
        log.error('handler failed', {
          method,
          path,
          error: err instanceof Error ? err.message : String(err),
          stack: err instanceof Error ? err.stack : undefined,
        });
        if (!res.headersSent) sendError(res, 500, 'internal server error');
        else res.destroy(); // a cut body is the honest signal once headers are out
      }
    }
  };
}

export interface HttpLimits {
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly socketTimeoutMs: number;
  readonly maxConnections: number;
}

/** Transport limits (Go: 60 s read and write timeouts). */
export const HTTP_LIMITS: HttpLimits = {
  /** Slowloris: the whole header block must arrive within 10 s. */
  headersTimeoutMs: 10_000,
  /** The whole request (headers + body) within 60 s, as Go's read timeout. */
  requestTimeoutMs: 60_000,
  /** Idle keep-alive connections close after 30 s (Prometheus reconnects cheaply). */
  keepAliveTimeoutMs: 30_000,
  /**
   * Socket inactivity (no bytes either way) kills a connection after 75 s: bounds a
   * client that stops reading; above the CPU profile's 60 s silence.
   */
  socketTimeoutMs: 75_000,
  /** Connections beyond this are refused by the kernel backlog / closed at once. */
  maxConnections: 1024,
};

/** `tls`: serve HTTPS with these node:https options (--web-config-file), same limits. */
export function createHttpServer(
  listener: http.RequestListener,
  overrides: Partial<HttpLimits> = {},
  tls?: https.ServerOptions,
): http.Server {
  const limits = { ...HTTP_LIMITS, ...overrides };
  const options: http.ServerOptions = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Node enforces the two timeouts above only when it checks (default every 30 s).
    connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
    maxHeaderSize: 16 * 1024,
  };
  // A TLS handshake gets the header timeout too (node's default is 120 s): a client that starts one and stalls must
  // not hold a connection longer than one that never sends its headers.
  let server: http.Server;
  if (tls) {
    const secure = https.createServer({ ...options, handshakeTimeout: limits.headersTimeoutMs, ...tls }, listener);
    // Every accepted connection (TCP and unix alike) is sniffed first: plain HTTP gets Go's 400 instead of a
    // dropped connection. Its first bytes must come within the header timeout, as the whole header block must.
    guardPlaintextOnTls(secure, { timeoutMs: limits.headersTimeoutMs });
    server = secure;
  } else server = http.createServer(options, listener);
  server.timeout = limits.socketTimeoutMs;
  server.maxConnections = limits.maxConnections;
  // A malformed, oversized or too slow request never reaches a handler: answer and close.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // A TLS-layer failure (handshake timeout, bad handshake) has no channel to answer on: an HTTP reply
    // written into an unfinished TLS socket is never sent, and the socket would stay open.
    const tlsFailure =
      err.code?.startsWith('ERR_TLS') === true || err.code?.startsWith('ERR_SSL') === true || 'library' in err;
    if (!socket.writable || err.code === 'ECONNRESET' || tlsFailure) {
      socket.destroy();
      return;
    }
    const status =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? '408 Request Timeout'
        : err.code === 'HPE_HEADER_OVERFLOW'
          ? '431 Request Header Fields Too Large'
          : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n${status}`);
  });
  return server;
}
