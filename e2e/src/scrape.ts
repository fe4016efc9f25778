// Plain HTTP/1.1 GETs to the server over TCP or its unix socket (no agent, no
// keep-alive: every scrape is a fresh connection, as Prometheus' first one is).
import { request } from 'node:http';

export type ScrapeTarget = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; socketPath: string };

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  durationMs: number;
}

export interface HttpOptions {
  method?: string;
  timeoutMs?: number;
  body?: string;
  headers?: Record<string, string>;
}

/** The target a --metric-server value designates (absolute path = unix socket, else host:port). */
export function targetFromAddress(address: string): ScrapeTarget {
  if (address.startsWith('/')) return { kind: 'unix', socketPath: address };
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[|\]$/g, '') || '127.0.0.1';
  return { kind: 'tcp', host, port: Number(address.slice(i + 1)) };
}

export function describeTarget(t: ScrapeTarget): string {
  return t.kind === 'unix' ? `unix:${t.socketPath}` : `http://${t.host}:${t.port}`;
}

export function httpGet(target: ScrapeTarget, path: string, opts: HttpOptions = {}): Promise<HttpResult> {
  const started = performance.now();
  const timeoutMs = opts.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const where = target.kind === 'unix' ? { socketPath: target.socketPath } : { host: target.host, port: target.port };
    const req = request(
      { ...where, path, method: opts.method ?? 'GET', agent: false, headers: opts.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            durationMs: performance.now() - started,
          }),
        );
      },
    );
    req.setTimeout(timeoutMs, () =>
      req.destroy(new Error(`GET ${path} on ${describeTarget(target)} took over ${timeoutMs} ms`)),
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** GET /metrics (with an optional raw query string) and insist on 200. */
export async function scrape(target: ScrapeTarget, query = '', timeoutMs?: number): Promise<HttpResult> {
  const res = await httpGet(target, `/metrics${query ? `?${query}` : ''}`, { timeoutMs });
  if (res.status !== 200) {
    throw new Error(`/metrics on ${describeTarget(target)} answered ${res.status}: ${res.body.slice(0, 500)}`);
  }
  return res;
}
