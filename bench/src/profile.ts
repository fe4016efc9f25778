// CPU profile of our server at N = 1000: run it under `node --cpu-prof`, scrape,
// stop it gracefully (the profile is written at exit), and summarise self time
// by function and by package, over the steady scrapes only: the first scrape's
// discovery parses and interns 1000 state files once, which would lead the table.
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer } from './children.js';
import { memory } from './proc.js';
import type { BootedFleet } from './runner.js';
import { Scraper } from './scrape-client.js';
import type { ServerKind } from './servers.js';
import { loadSourceMap, type SourceLookup } from './sourcemap.js';
import { median } from './stats.js';

interface CpuProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
    readonly columnNumber: number;
  };
}
interface CpuProfile {
  readonly nodes: readonly CpuProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface ProfileEntry {
  readonly name: string;
  readonly where: string;
  readonly selfMs: number;
  /** Share of the busy (non-idle) time. */
  readonly share: number;
}

export interface ProfileResult {
  readonly scrapes: number;
  /** Of the scrapes after the first (which includes discovery); the profiler slows them somewhat. */
  readonly latencyP50Ms: number;
  readonly rssBytes: number;
  readonly rssPeakBytes: number;
  readonly file: string;
  readonly busyMs: number;
  /** Busy time left out before the steady scrapes (start-up and the discovery scrape); absent in older results. */
  readonly startupBusyMs?: number;
  readonly topFunctions: readonly ProfileEntry[];
  readonly byArea: readonly ProfileEntry[];
}

export async function profileOurs(fleet: BootedFleet, kind: ServerKind, scrapes: number): Promise<ProfileResult> {
  const dir = join(fleet.dir, 'cpu-profile');
  mkdirSync(dir, { recursive: true });
  const spawnedAt = performance.now();
  const server = await startServer(kind.spec(fleet.root, fleet.address, join(fleet.dir, 'ours-profile.log'), dir));
  const lat: number[] = [];
  let mem = { rss: 0, hwm: 0 };
  let steadyFromMs = 0;
  try {
    const s = new Scraper(fleet.address);
    await s.scrape(false); // start-up discovery
    // The profile starts after the spawn (node boots first), so a cut this long after the
    // spawn falls in the idle gap that follows, whatever the boot took (well under 250 ms).
    steadyFromMs = performance.now() - spawnedAt + 250;
    await sleep(500);
    for (let i = 0; i < scrapes; i++) lat.push((await s.scrape(false)).ms);
    s.close();
    mem = memory(server.pid);
  } finally {
    await server.stop();
  }
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile written in ${dir} (did the server exit gracefully?)`);
  return {
    scrapes,
    latencyP50Ms: median(lat),
    rssBytes: mem.rss,
    rssPeakBytes: mem.hwm,
    file: join(dir, file),
    ...summariseProfile(JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile, steadyFromMs),
  };
}

const IDLE = new Set(['(idle)', '(program)']);

/** Self time over the samples from `fromMs` after the profile's start; busy time before it is counted apart. */
export function summariseProfile(
  p: CpuProfile,
  fromMs = 0,
): Omit<ProfileResult, 'scrapes' | 'file' | 'latencyP50Ms' | 'rssBytes' | 'rssPeakBytes'> {
  const byId = new Map<number, CpuProfileNode>();
  for (const n of p.nodes) byId.set(n.id, n);
  const selfUs = new Map<number, number>();
  let at = 0;
  let startupUs = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i] as number;
    const us = p.timeDeltas[i] ?? 0;
    at += us;
    if (at < fromMs * 1000) {
      if (!IDLE.has((byId.get(id) as CpuProfileNode).callFrame.functionName)) startupUs += us;
      continue;
    }
    selfUs.set(id, (selfUs.get(id) ?? 0) + us);
  }
  const fn = new Map<string, { name: string; where: string; us: number }>();
  const area = new Map<string, number>();
  const maps = new Map<string, SourceLookup | undefined>();
  let busy = 0;
  for (const [id, us] of selfUs) {
    const cf = (byId.get(id) as CpuProfileNode).callFrame;
    const name = cf.functionName || '(anonymous)';
    if (IDLE.has(name)) continue;
    busy += us;
    if (!maps.has(cf.url)) maps.set(cf.url, loadSourceMap(cf.url));
    const source = maps.get(cf.url)?.sourceOf(cf.lineNumber, cf.columnNumber);
    const where = source ? shortUrl(`file://${source}`, -1).replace(/:0$/, '') : shortUrl(cf.url, cf.lineNumber);
    const key = `${name}@${where}`;
    const e = fn.get(key) ?? { name, where, us: 0 };
    e.us += us;
    fn.set(key, e);
    const a = areaOf(source ? `file://${source}` : cf.url, name);
    area.set(a, (area.get(a) ?? 0) + us);
  }
  const top = [...fn.values()].sort((a, b) => b.us - a.us).slice(0, 20);
  return {
    busyMs: busy / 1000,
    startupBusyMs: startupUs / 1000,
    topFunctions: top.map((e) => ({ name: e.name, where: e.where, selfMs: e.us / 1000, share: e.us / busy })),
    byArea: [...area.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([name, us]) => ({ name, where: '', selfMs: us / 1000, share: us / busy })),
  };
}

function shortUrl(url: string, line: number): string {
  if (url === '') return '(native)';
  const m = /\/(packages\/[^/]+\/.*)$/.exec(url) ?? /\/(node_modules\/.*)$/.exec(url);
  const path = m ? m[1] : url.replace(/^file:\/\//, '');
  return line < 0 ? `${path}` : `${path}:${line + 1}`;
}

function areaOf(url: string, name: string): string {
  const m = /\/packages\/([^/]+)\//.exec(url);
  if (m) return `packages/${m[1]}`;
  if (url.startsWith('node:')) return 'node internals (net, http, streams)';
  if (/node_modules\/(?:\.pnpm\/)?([^/@]+|@[^/]+\/[^/]+)/.test(url))
    return `dependency ${/node_modules\/(?:\.pnpm\/)?((?:@[^/]+\/)?[^/@]+)/.exec(url)?.[1] ?? ''}`;
  if (name === '(garbage collector)') return 'garbage collector';
  return 'V8 / native (JSON.parse, Buffer, regexps, ...)';
}
