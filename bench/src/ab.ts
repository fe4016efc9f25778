// Paired A/B: two builds of ours watch one fleet at once and are scraped in turn,
// round after round (ABBA order), so the machine's drift hits both alike. Separate
// runs of one build differ by 10-20% within minutes on this shared machine; an A/A pair
// agrees within a few %. A is the workspace's packed build; B is the packed build of a
// git ref (`--ab=REF`) or the same build (`--ab=self`, an A/A check, or a flag
// experiment with BENCH_AB_NODE_OPTIONS). Both run as users run them (npm-installed bin).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installPackedServer } from '../../test-support/packed-server.js';
import { BenchError, type Child, freePort, REPO_ROOT, startServer } from './children.js';
import { type ColdStart, coldStart } from './cold.js';
import { cpuSeconds, memory } from './proc.js';
import type { BootedFleet } from './runner.js';
import { Scraper } from './scrape-client.js';
import { type OursBuild, ours, type ServerKind } from './servers.js';
import { median } from './stats.js';

export interface AbOptions {
  /** `self` or a git ref. */
  readonly b: string;
  readonly rounds: number;
  readonly coldStarts: number;
  /** Subcommand flags both sides run with (e.g. --resource-metrics); none by default. */
  readonly flags?: readonly string[];
}

interface Side {
  readonly name: 'A' | 'B';
  readonly kind: ServerKind;
  readonly root: string;
  readonly address: string;
  readonly ms: number[];
  readonly cpu: number[];
  readonly rss: number[];
  hwm: number;
  readonly cold: ColdStart[];
}

export interface AbResult {
  readonly date: string;
  readonly a: string;
  readonly b: string;
  readonly sandboxes: number;
  readonly rounds: number;
  readonly sides: Record<
    'A' | 'B',
    { p50Ms: number; cpuMsPerScrape: number; rssLastMb: number; rssPeakMb: number; coldFirstScrapeMs?: number }
  >;
  /** Median over the rounds of B's figure over A's, paired by round. */
  readonly ratios: { p50: number; cpu: number };
}

/** The packed build of `ref`, built in a git worktree of its own under `workdir`. */
export function buildRef(
  ref: string,
  workdir: string,
  progress: (line: string) => void,
): { build: OursBuild; label: string; cleanup: () => void } {
  const sha = git(['rev-parse', '--short', ref]).trim();
  const tree = join(workdir, `ab-${sha}`);
  git(['worktree', 'add', '--detach', tree, ref]);
  const cleanup = (): void => void git(['worktree', 'remove', '--force', tree]);
  try {
    progress(`A/B: building ${ref} (${sha}) in ${tree}`);
    run('pnpm', ['install', '--frozen-lockfile', '--prefer-offline', '--reporter=silent'], tree);
    run('pnpm', ['turbo', 'build', '--output-logs=errors-only', '--filter=@org/metricserver-server...'], tree);
    const packed = installPackedServer(join(workdir, `ab-${sha}-installed`), join(tree, 'packages', 'server'));
    return {
      build: { bin: packed.bin, entry: packed.entry, nodeOptions: process.env.BENCH_AB_NODE_OPTIONS || undefined },
      label: `${ref} (${sha})`,
      cleanup,
    };
  } catch (e) {
    cleanup();
    throw e;
  }
}

function git(args: string[]): string {
  return run('git', args, REPO_ROOT);
}

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    timeout: 600_000,
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
  });
  if (r.status !== 0)
    throw new BenchError(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/**
 * A copy of the fleet's root whose sandboxes ask for `address` instead: a second server
 * serves the same sandboxes (same control sockets, same processes) from it.
 */
function mirrorRoot(fleet: BootedFleet, root: string, address: string): void {
  mkdirSync(root, { recursive: true });
  const from = JSON.stringify(fleet.address);
  for (const f of readdirSync(fleet.root)) {
    if (f.endsWith('.lock')) copyFileSync(join(fleet.root, f), join(root, f));
    if (!f.endsWith('.state')) continue;
    const text = readFileSync(join(fleet.root, f), 'utf8');
    writeFileSync(
      join(root, f),
      text.replaceAll(`"metricServerAddress":${from}`, `"metricServerAddress":${JSON.stringify(address)}`),
    );
  }
}

export async function runAb(
  fleet: BootedFleet,
  a: OursBuild,
  b: OursBuild,
  labels: { a: string; b: string },
  o: AbOptions,
  progress: (line: string) => void,
): Promise<AbResult> {
  const bAddress = `127.0.0.1:${await freePort()}`;
  const bRoot = join(fleet.dir, 'root-b');
  mirrorRoot(fleet, bRoot, bAddress);
  const side = (name: 'A' | 'B', build: OursBuild, root: string, address: string): Side => ({
    name,
    kind: ours(build, name, o.flags),
    root,
    address,
    ms: [],
    cpu: [],
    rss: [],
    hwm: 0,
    cold: [],
  });
  const sides = [side('A', a, fleet.root, fleet.address), side('B', b, bRoot, bAddress)] as const;
  const spec = (s: Side): Parameters<ServerKind['spec']> => [s.root, s.address, join(fleet.dir, `ab-${s.name}.log`)];

  // Cold starts, alternating A and B: each a fresh process scraped as soon as it listens.
  for (let i = 0; i < o.coldStarts; i++) {
    for (const s of i % 2 === 0 ? sides : [...sides].reverse()) {
      const started = await coldStart(s.kind, spec(s), fleet.targets.length);
      await started.child.stop();
      s.cold.push(started.cold);
    }
  }
  if (o.coldStarts > 0) {
    progress(
      `A/B cold first scrape: A ${sides[0].cold.map((c) => c.firstScrapeMs.toFixed(0)).join(', ')} ms; B ` +
        `${sides[1].cold.map((c) => c.firstScrapeMs.toFixed(0)).join(', ')} ms`,
    );
  }

  const children: Child[] = [];
  try {
    for (const s of sides) children.push(await startServer(s.kind.spec(...spec(s))));
    const scrapers = sides.map((s) => new Scraper(s.address));
    for (let w = 0; w < 5; w++) for (const sc of scrapers) await sc.scrape(false);
    for (let r = 0; r < o.rounds; r++) {
      const order = r % 4 === 0 || r % 4 === 3 ? [0, 1] : [1, 0]; // ABBA
      for (const i of order) {
        const s = sides[i] as Side;
        const pid = (children[i] as Child).pid;
        const c0 = cpuSeconds(pid);
        const res = await (scrapers[i] as Scraper).scrape(false);
        if (res.status !== 200) throw new BenchError(`A/B: side ${s.name} answered ${res.status}`);
        s.cpu.push(cpuSeconds(pid) - c0);
        s.ms.push(res.ms);
        s.rss.push(memory(pid).rss);
      }
      if ((r + 1) % 10 === 0) {
        progress(
          `A/B round ${r + 1}/${o.rounds}: p50 A ${median(sides[0].ms).toFixed(0)} B ` +
            `${median(sides[1].ms).toFixed(0)} ms`,
        );
      }
    }
    for (const [i, s] of sides.entries()) s.hwm = memory((children[i] as Child).pid).hwm;
    for (const sc of scrapers) sc.close();
  } finally {
    for (const c of children) await c.stop();
    rmSync(bRoot, { recursive: true, force: true });
  }
  const MB = 2 ** 20;
  const sum = (v: number[]): number => v.reduce((x, y) => x + y, 0);
  const figures = (s: Side): AbResult['sides']['A'] => ({
    p50Ms: median(s.ms),
    // /proc ticks are 10 ms: the sum over all scrapes, not a median of per-scrape figures.
    cpuMsPerScrape: (sum(s.cpu) / s.cpu.length) * 1000,
    rssLastMb: (s.rss[s.rss.length - 1] ?? 0) / MB,
    rssPeakMb: s.hwm / MB,
    ...(s.cold.length > 0 ? { coldFirstScrapeMs: median(s.cold.map((c) => c.firstScrapeMs)) } : {}),
  });
  const [sa, sb] = sides;
  return {
    date: new Date().toISOString(),
    a: labels.a,
    b: labels.b,
    sandboxes: fleet.targets.length,
    rounds: o.rounds,
    sides: { A: figures(sa), B: figures(sb) },
    ratios: { p50: median(sb.ms.map((m, i) => m / (sa.ms[i] as number))), cpu: sum(sb.cpu) / sum(sa.cpu) },
  };
}

export function abTable(r: AbResult): string {
  const f = (v: number | undefined, d = 0): string => (v === undefined ? '–' : v.toFixed(d));
  const row = (name: 'A' | 'B', label: string): string => {
    const s = r.sides[name];
    return (
      `| ${name}: ${label} | ${f(s.p50Ms, 1)} | ${f(s.cpuMsPerScrape, 1)} | ${f(s.rssLastMb)} / ` +
      `${f(s.rssPeakMb)} | ${f(s.coldFirstScrapeMs)} |`
    );
  };
  return [
    `Paired A/B at N = ${r.sandboxes}, ${r.rounds} rounds (${r.date}):`,
    '',
    '| build | p50 ms | CPU ms/scrape | RSS last / peak MB | cold first scrape ms (median) |',
    '|---|---|---|---|---|',
    row('A', r.a),
    row('B', r.b),
    `| B/A | ${r.ratios.p50.toFixed(3)} (median of pairs) | ${r.ratios.cpu.toFixed(3)} | | |`,
  ].join('\n');
}
