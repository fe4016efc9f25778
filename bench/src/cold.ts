// The cold scenario: a fresh server on a fleet already running, as after a DaemonSet
// rolling update. Prometheus scrapes a new server as soon as it answers, so the first
// /metrics goes out the moment the address accepts a connection; how long that scrape
// takes, and how long until the server has loaded every sandbox, are what this measures.
import { request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { BenchError, type Child, startServer } from './children.js';
import { Scraper, sandboxLabels } from './scrape-client.js';
import type { ServerKind } from './servers.js';

export interface ColdStart {
  readonly sandboxes: number;
  /** Spawn until the address accepted a connection (polled every 5 ms). */
  readonly listenMs: number;
  /** The first /metrics, sent as soon as the server listened. */
  readonly firstScrapeMs: number;
  /** Sandboxes present in that first body. */
  readonly firstScrapeSandboxes: number;
  /**
   * Spawn until the status page reported every sandbox loaded, in a start of its own with no
   * scrape at all (polled every 20 ms); undefined for a server without a status page.
   */
  readonly loadedMs?: number;
}

/** Starts `kind` fresh and scrapes it at once: the started child (the caller stops it) and the figures. */
export async function coldStart(
  kind: ServerKind,
  spec: Parameters<ServerKind['spec']>,
  sandboxes: number,
): Promise<{ child: Child; cold: Omit<ColdStart, 'loadedMs'> }> {
  const s = kind.spec(...spec);
  const t0 = performance.now();
  const child = await startServer(s, 5);
  const listenMs = performance.now() - t0;
  const scraper = new Scraper(s.address);
  try {
    const first = await scraper.scrape(true);
    const seen = first.body ? sandboxLabels(first.body.toString('utf8')).size : 0;
    return { child, cold: { sandboxes, listenMs, firstScrapeMs: first.ms, firstScrapeSandboxes: seen } };
  } finally {
    scraper.close();
  }
}

/** Spawn until `/runsc-metrics/status` lists `sandboxes` loaded sandboxes, with no scrape sent. */
export async function timeToLoaded(
  kind: ServerKind,
  spec: Parameters<ServerKind['spec']>,
  sandboxes: number,
): Promise<number> {
  const s = kind.spec(...spec);
  const t0 = performance.now();
  const child = await startServer(s, 5);
  try {
    while (performance.now() - t0 < 120_000) {
      if ((await loadedCount(s.address)) >= sandboxes) return performance.now() - t0;
      await sleep(20);
    }
    throw new BenchError(`${kind.name} did not load ${sandboxes} sandboxes within 120 s`);
  } finally {
    await child.stop();
  }
}

function loadedCount(address: string): Promise<number> {
  const target = address.startsWith('/')
    ? { socketPath: address }
    : { host: address.split(':')[0], port: Number(address.split(':')[1]) };
  return new Promise((resolve, reject) => {
    const req = request(
      { ...target, path: '/runsc-metrics/status', headers: { accept: 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { sandboxes: { loaded: boolean }[] };
          resolve(body.sandboxes.filter((x) => x.loaded).length);
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}
