// --resource-metrics: what serving every container's usage adds to a scrape, against the anchor
// operators pay today (one `runsc events --stats <id>` process per container, as containerd's
// runsc shim starts for each stats request) and against a floor that makes the same
// Metrics.Export + containerManager.Event calls bare.
//
// Per N: one fleet; blocks of (server without the flag, server with it) in alternating order,
// each a fresh start of the packed bin, warmed up, then rounds of one scrape + one floor pass
// (export-only for the plain server, export + events for the flagged one). Then the anchor:
// the real runsc CLI pointed at the fleet's root (its state files are runsc's), once per
// container, its CPU read from this process's waited-for children (/proc/self/stat).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startServer } from './children.js';
import { closeHostCgroups, floorPass, openHostCgroups } from './floor.js';
import { childrenCpuSeconds, cpuSeconds } from './proc.js';
import type { BootedFleet, GroupContext } from './runner.js';
import { Scraper } from './scrape-client.js';
import type { ServerKind } from './servers.js';
import { median } from './stats.js';

export interface ResourcesVariant {
  /** Server CPU per scrape, seconds (utime+stime over the measured rounds / scrapes). */
  readonly cpuSecondsPerScrape: number;
  readonly p50Ms: number;
  readonly bytesPerScrape: number;
  /** The floor alternating with it: export-only for the plain server, export + events with the flag. */
  readonly floorP50Ms: number;
  readonly scrapes: number;
}

export interface ResourcesAnchor {
  /** `runsc events --stats` processes started (one per container). */
  readonly calls: number;
  /** Those that did not exit 0 with one stats event on stdout. */
  readonly failed: number;
  /** CPU of all of them together (utime+stime of waited-for children), seconds. */
  readonly cpuSeconds: number;
  readonly wallSeconds: number;
  readonly runsc: string;
}

export interface ResourcesResult {
  readonly sandboxes: number;
  readonly containers: number;
  readonly blocks: number;
  readonly plain: ResourcesVariant;
  readonly withFlag: ResourcesVariant;
  /** `runsc_container_cpu_usage_seconds_total` series in the flagged server's last scrape. */
  readonly cpuSeriesServed: number;
  /** Undefined when runsc is not installed (the report says so). */
  readonly anchor?: ResourcesAnchor;
}

interface Tally {
  cpu: number;
  ms: number[];
  floorMs: number[];
  bytes: number;
}

export async function resourcesBench(
  ctx: GroupContext,
  fleet: BootedFleet,
  plain: ServerKind,
  flagged: ServerKind,
  opts: { blocks: number; rounds: number },
): Promise<ResourcesResult> {
  const n = fleet.targets.length;
  await openHostCgroups(fleet.targets);
  const tallies = { plain: newTally(), withFlag: newTally() };
  let cpuSeriesServed = 0;
  for (let b = 0; b < opts.blocks; b++) {
    // Alternate which variant goes first, so a drift of the machine over a block hits both alike.
    const order = b % 2 === 0 ? (['plain', 'withFlag'] as const) : (['withFlag', 'plain'] as const);
    for (const variant of order) {
      const kind = variant === 'plain' ? plain : flagged;
      const spec = kind.spec(fleet.root, fleet.address, join(fleet.dir, `${kind.name}-${b}.log`));
      const server = await startServer(spec);
      const scraper = new Scraper(fleet.address);
      try {
        for (let w = 0; w < 3; w++) await scraper.scrape(false); // loading, then steady
        const t = tallies[variant];
        for (let r = 0; r < opts.rounds; r++) {
          const last = r === opts.rounds - 1 && variant === 'withFlag';
          const c0 = cpuSeconds(server.pid);
          const res = await scraper.scrape(last);
          t.cpu += cpuSeconds(server.pid) - c0;
          t.ms.push(res.ms);
          t.bytes += res.bytes;
          if (res.body) {
            cpuSeriesServed = [...res.body.toString('latin1').matchAll(/^runsc_container_cpu_usage_seconds_total\{/gm)]
              .length;
          }
          const f = await floorPass(fleet.targets, ctx.floorConcurrency, ctx.floorTimeoutMs, variant === 'withFlag');
          t.floorMs.push(f.ms);
        }
      } finally {
        scraper.close();
        await server.stop();
      }
      ctx.progress(
        `resources n${n} block ${b + 1}/${opts.blocks} ${variant === 'plain' ? 'without' : 'with   '} the flag: ` +
          `p50 ${median(tallies[variant].ms).toFixed(0)} ms, floor ${median(tallies[variant].floorMs).toFixed(0)} ms`,
      );
    }
  }
  closeHostCgroups(fleet.targets);
  const containers = fleet.targets.reduce((a, t) => a + t.containers.length, 0);
  const anchor = runscAnchor(fleet);
  if (anchor) {
    ctx.progress(
      `resources n${n} anchor: ${anchor.calls} runsc events --stats took ${anchor.cpuSeconds.toFixed(2)} s CPU ` +
        `(${anchor.failed} failed) in ${anchor.wallSeconds.toFixed(1)} s`,
    );
  }
  return {
    sandboxes: n,
    containers,
    blocks: opts.blocks,
    plain: variantOf(tallies.plain),
    withFlag: variantOf(tallies.withFlag),
    cpuSeriesServed,
    ...(anchor ? { anchor } : {}),
  };
}

function newTally(): Tally {
  return { cpu: 0, ms: [], floorMs: [], bytes: 0 };
}

function variantOf(t: Tally): ResourcesVariant {
  const scrapes = t.ms.length;
  return {
    cpuSecondsPerScrape: t.cpu / (scrapes || 1),
    p50Ms: median(t.ms),
    bytesPerScrape: t.bytes / (scrapes || 1),
    floorP50Ms: median(t.floorMs),
    scrapes,
  };
}

/** One `runsc --root=<fleet root> events --stats <id>` per container, in turn; undefined without runsc. */
function runscAnchor(fleet: BootedFleet): ResourcesAnchor | undefined {
  const which = spawnSync('sh', ['-c', 'command -v runsc'], { encoding: 'utf8' });
  const runsc = which.stdout.trim();
  if (which.status !== 0 || runsc === '') return undefined;
  let calls = 0;
  let failed = 0;
  const c0 = childrenCpuSeconds();
  const t0 = performance.now();
  for (const t of fleet.targets) {
    for (const id of t.containers) {
      calls++;
      const r = spawnSync(runsc, [`--root=${fleet.root}`, 'events', '--stats', id], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      if (r.status !== 0 || !r.stdout.startsWith('{"type":"stats"')) failed++;
    }
  }
  return {
    calls,
    failed,
    cpuSeconds: childrenCpuSeconds() - c0,
    wallSeconds: (performance.now() - t0) / 1000,
    runsc,
  };
}
