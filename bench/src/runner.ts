// Runs one fleet group: boot the fleet, then per server: start it, warm it up,
// and for each scenario alternate a round of scrapes with a round of floor
// passes (so noise on this shared machine hits both alike), then stop it.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type Child, freePort, startFleet } from './children.js';
import { type ColdStart, coldStart, timeToLoaded } from './cold.js';
import { type FloorTarget, floorPass, floorTargets } from './floor.js';
import type { FleetGroup, Scenario } from './matrix.js';
import { cpuSeconds, memory } from './proc.js';
import { Scraper, sandboxLabels } from './scrape-client.js';
import type { ServerKind } from './servers.js';
import { type Summary, summarise } from './stats.js';

export interface ServerPhase {
  readonly latencyMs: Summary;
  readonly bytesPerScrape: number;
  readonly cpuSecondsPerScrape: number;
  readonly rssSteadyBytes: number;
  readonly rssPeakBytes: number;
  /** The very first scrape after start: includes discovery of the whole fleet. */
  readonly firstScrapeMs: number;
  /** The cold scenario of this fleet (the same for every scenario of the group); absent in older results. */
  readonly cold?: ColdStart;
  readonly scrapes: number;
  /** Scrapes that were not HTTP 200. */
  readonly failedScrapes: number;
  /** Scrapes checked for healthy sandboxes, and those missing at least one. */
  readonly checkedScrapes: number;
  readonly scrapesMissingHealthy: number;
  /** The stalled target: p99 <= per-sandbox deadline + 100 ms (only when stalled > 0). */
  readonly deadlineMs: number;
}

export interface FloorPhase {
  readonly latencyMs: Summary;
  readonly bytesPerPass: number;
  readonly cpuSecondsPerPass: number;
  readonly failedPerPass: number;
}

export interface ScenarioResult {
  readonly scenario: Scenario;
  readonly servers: Record<string, ServerPhase>;
  readonly floor: FloorPhase;
}

export interface GroupContext {
  readonly workdir: string;
  readonly fleetCli: string;
  readonly servers: readonly ServerKind[];
  readonly floorConcurrency: number;
  readonly floorTimeoutMs: number;
  readonly progress: (line: string) => void;
}

export interface BootedFleet {
  readonly child: Child;
  readonly root: string;
  readonly address: string;
  readonly targets: readonly FloorTarget[];
  /** Ids of the sandboxes that answer (behaviours go to the first ids). */
  readonly healthy: readonly string[];
  readonly dir: string;
  /** performance.now() once the fleet was ready: its sandboxes started before this. */
  readonly readyAt: number;
}

export async function bootFleet(
  ctx: GroupContext,
  key: string,
  n: number,
  stalled: number,
  transport: 'tcp' | 'unix',
): Promise<BootedFleet> {
  const dir = join(ctx.workdir, key);
  mkdirSync(dir, { recursive: true });
  const root = join(dir, 'root');
  const address = transport === 'tcp' ? `127.0.0.1:${await freePort()}` : join(dir, 'metrics.sock');
  const child = await startFleet(ctx.fleetCli, {
    root,
    address,
    count: n,
    stalled,
    hosts: Math.min(4, n),
    logFile: join(dir, 'fleet.log'),
  });
  const readyAt = performance.now();
  const targets = floorTargets(root);
  const healthy = targets.slice(stalled).map((t) => t.id);
  return { child, root, address, targets, healthy, dir, readyAt };
}

export async function runGroup(ctx: GroupContext, g: FleetGroup): Promise<ScenarioResult[]> {
  const fleet = await bootFleet(ctx, g.key, g.sandboxes, g.stalled, g.transport);
  const floors = new Map<string, { ms: number[]; bytes: number; cpu: number; failed: number; passes: number }>();
  const results = new Map<string, Record<string, ServerPhase>>();
  try {
    for (const kind of ctx.servers) {
      const spec = [fleet.root, fleet.address, join(fleet.dir, `${kind.name}.log`)] as const;
      // Cold: how long a fresh server takes to load the running fleet (no scrape), then a
      // fresh start whose first scrape goes out as soon as it listens.
      const loadedMs = g.stalled === 0 && kind.hasStatus ? await timeToLoaded(kind, [...spec], g.sandboxes) : undefined;
      const started = await coldStart(kind, [...spec], g.sandboxes);
      const cold: ColdStart = { ...started.cold, ...(loadedMs === undefined ? {} : { loadedMs }) };
      const server = started.child;
      const first = { ms: cold.firstScrapeMs };
      try {
        const warm = new Scraper(fleet.address);
        await warm.scrape(false);
        warm.close();
        for (const sc of g.scenarios) {
          // runsc's fixed 8 s per-sandbox deadline makes its stalled scrapes long: 2 rounds are enough to see it.
          const rounds = kind.name !== 'ours' && sc.stalled > 0 ? Math.min(2, sc.rounds) : sc.rounds;
          const floor = floors.get(sc.key) ?? { ms: [], bytes: 0, cpu: 0, failed: 0, passes: 0 };
          floors.set(sc.key, floor);
          const phase = { ...(await runScenario(ctx, sc, rounds, kind, server, fleet, first.ms, floor)), cold };
          const rec = results.get(sc.key) ?? {};
          rec[kind.name] = phase;
          results.set(sc.key, rec);
          const fp = summarise(floor.ms);
          if (sc === g.scenarios[0] && g.stalled === 0) {
            ctx.progress(
              `${g.key.padEnd(20)} ${kind.name.padEnd(6)} cold: listening after ${fmtMs(cold.listenMs)}, first ` +
                `scrape ${fmtMs(cold.firstScrapeMs)} ` +
                `(${cold.firstScrapeSandboxes}/${g.sandboxes} ` +
                `sandboxes)${cold.loadedMs === undefined ? '' : `, all loaded after ${fmtMs(cold.loadedMs)}`}`,
            );
          }
          ctx.progress(
            `${sc.key.padEnd(20)} ${kind.name.padEnd(6)} p50 ${fmtMs(phase.latencyMs.p50)} p99 ` +
              `${fmtMs(phase.latencyMs.p99)} | floor p50 ${fmtMs(fp.p50)} ` +
              `| ${(phase.latencyMs.p50 / fp.p50).toFixed(2)}x floor | cpu ` +
              `${(phase.cpuSecondsPerScrape * 1000).toFixed(0)} ms/scrape ` +
              `| rss ${(phase.rssSteadyBytes / 2 ** 20).toFixed(0)} MB (peak ` +
              `${(phase.rssPeakBytes / 2 ** 20).toFixed(0)})` +
              (phase.scrapesMissingHealthy > 0
                ? ` | ${phase.scrapesMissingHealthy}/${phase.checkedScrapes} scrapes MISSING healthy sandboxes`
                : ''),
          );
        }
      } finally {
        await server.stop();
      }
    }
  } finally {
    await fleet.child.stop();
  }
  return g.scenarios.map((sc) => {
    const f = floors.get(sc.key) as { ms: number[]; bytes: number; cpu: number; failed: number; passes: number };
    return {
      scenario: sc,
      servers: results.get(sc.key) ?? {},
      floor: {
        latencyMs: summarise(f.ms),
        bytesPerPass: f.bytes / (f.passes || 1),
        cpuSecondsPerPass: f.cpu / (f.passes || 1),
        failedPerPass: f.failed / (f.passes || 1),
      },
    };
  });
}

async function runScenario(
  ctx: GroupContext,
  sc: Scenario,
  rounds: number,
  kind: ServerKind,
  server: Child,
  fleet: BootedFleet,
  firstScrapeMs: number,
  floor: { ms: number[]; bytes: number; cpu: number; failed: number; passes: number },
): Promise<ServerPhase> {
  const scrapers = Array.from({ length: sc.scrapers }, () => new Scraper(fleet.address));
  const lat: number[] = [];
  const rss: number[] = [];
  let bytes = 0;
  let cpu = 0;
  let failed = 0;
  let checked = 0;
  let missing = 0;
  try {
    for (let r = 0; r < rounds; r++) {
      const check = sc.stalled > 0 || r === 0;
      const c0 = cpuSeconds(server.pid);
      const res = await Promise.all(scrapers.map((s) => s.scrape(check)));
      cpu += cpuSeconds(server.pid) - c0;
      rss.push(memory(server.pid).rss);
      for (const x of res) {
        lat.push(x.ms);
        bytes += x.bytes;
        if (x.status !== 200) failed++;
        if (x.body) {
          checked++;
          const seen = sandboxLabels(x.body.toString('utf8'));
          if (fleet.healthy.some((id) => !seen.has(id))) missing++;
        }
      }
      const u0 = process.cpuUsage();
      const passes = await Promise.all(
        scrapers.map(() => floorPass(fleet.targets, ctx.floorConcurrency, ctx.floorTimeoutMs)),
      );
      const u = process.cpuUsage(u0);
      floor.cpu += (u.user + u.system) / 1e6;
      for (const p of passes) {
        floor.ms.push(p.ms);
        floor.bytes += p.bytes;
        floor.failed += p.failed;
        floor.passes++;
      }
    }
  } finally {
    for (const s of scrapers) s.close();
  }
  const scrapes = lat.length;
  return {
    latencyMs: summarise(lat),
    bytesPerScrape: bytes / (scrapes || 1),
    cpuSecondsPerScrape: cpu / (scrapes || 1),
    rssSteadyBytes: rss[rss.length - 1] ?? 0,
    rssPeakBytes: memory(server.pid).hwm,
    firstScrapeMs,
    scrapes,
    failedScrapes: failed,
    checkedScrapes: checked,
    scrapesMissingHealthy: missing,
    deadlineMs: kind.perSandboxTimeoutMs,
  };
}

export function fmtMs(ms: number): string {
  return ms >= 100 ? `${ms.toFixed(0)} ms` : ms >= 10 ? `${ms.toFixed(1)} ms` : `${ms.toFixed(2)} ms`;
}
