// The Prometheus side: GET /metrics over TCP or a unix socket, timing the full
// body. Each scraper keeps one keep-alive connection, as Prometheus does.
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

export interface ScrapeResult {
  readonly ms: number;
  readonly bytes: number;
  readonly status: number;
  /**
   * The body, when asked for. Counting its sandboxes is left to the caller, after every
   * concurrent scrape has ended: done here, one scraper's count (a regex over ~5 MB)
   * would hold up the others' 'end' events and inflate their latency.
   */
  readonly body?: Buffer;
}

export class Scraper {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });
  constructor(private readonly address: string) {}

  scrape(collectSandboxes: boolean): Promise<ScrapeResult> {
    const target = this.address.startsWith('/')
      ? { socketPath: this.address }
      : { host: this.address.split(':')[0], port: Number(this.address.split(':')[1]) };
    return new Promise((resolve, reject) => {
      const t0 = performance.now();
      const req = request(
        { ...target, path: '/metrics', agent: this.agent, headers: { accept: 'text/plain' } },
        (res) => {
          let bytes = 0;
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => {
            bytes += c.length;
            if (collectSandboxes) chunks.push(c);
          });
          res.on('end', () => {
            const ms = performance.now() - t0;
            const out: ScrapeResult = { ms, bytes, status: res.statusCode ?? 0 };
            if (!collectSandboxes) return resolve(out);
            resolve({ ...out, body: Buffer.concat(chunks) });
          });
          res.on('error', reject);
        },
      );
      req.setTimeout(120_000, () => req.destroy(new Error('scrape took over 120 s')));
      req.on('error', reject);
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

export function sandboxLabels(text: string): Set<string> {
  const ids = new Set<string>();
  for (const m of text.matchAll(/[{,]sandbox="([^"]*)"/g)) ids.add(m[1] as string);
  return ids;
}
