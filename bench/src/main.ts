// `pnpm bench` entry: runs the fleet matrix (or --quick), the RSS soak and the
// N = 1000 profile, then writes bench/results/*.json, the chart and BENCHMARKS.md.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SERIES_RAMP_SECONDS } from '@org/metricserver-fake-sandbox';
import { installPackedServer } from '../../test-support/packed-server.js';
import { abTable, buildRef, runAb } from './ab.js';
import { BenchError, REPO_ROOT, workspaceBin } from './children.js';
import { buildMatrix, PER_SANDBOX_TIMEOUT_MS, SOAK_SCRAPES } from './matrix.js';
import { describeMachine } from './proc.js';
import { type ProfileResult, profileOurs } from './profile.js';
import {
  chartSeries,
  coldTable,
  profileSection,
  type RunResults,
  resourcesTable,
  scenarioTable,
  verdicts,
} from './report.js';
import { type ResourcesResult, resourcesBench } from './resources.js';
import { bootFleet, type GroupContext, runGroup, type ScenarioResult } from './runner.js';
import { type OursBuild, ours, type ServerKind, theirs } from './servers.js';
import { type SoakResult, soak } from './soak.js';
import { latencyChart } from './svg.js';

const USAGE =
  'usage: pnpm bench [--quick | --profile-only | --profile-resources | --soak-only | --resources-only | ' +
  '--report-only | --ab=REF|self [--ab-n=N] [--ab-rounds=R] [--ab-cold=K] [--ab-flags=F,...]] [--keep-workdir]' +
  '   (env RUNSC_METRIC_SERVER=/path/to/runsc also benchmarks that server)';

/** `--name=value` of argv, or undefined. */
function option(argv: string[], name: string): string | undefined {
  const a = argv.find((x) => x.startsWith(`--${name}=`));
  return a === undefined ? undefined : a.slice(name.length + 3);
}

/** Sandboxes the floor queries at once: the same as our server's default --scrape-concurrency. */
const FLOOR_CONCURRENCY = 1024; // ours: the default --scrape-concurrency

async function main(argv: string[]): Promise<void> {
  const flags = [
    '--quick',
    '--keep-workdir',
    '--profile-only',
    '--report-only',
    '--soak-only',
    '--resources-only',
    '--profile-resources',
  ];
  const unknown = argv.filter((a) => !flags.includes(a) && !/^--ab(-n|-rounds|-cold|-flags)?=./.test(a));
  if (unknown.length > 0) throw new BenchError(`unknown argument(s) ${unknown.join(' ')}\n${USAGE}`);
  if (argv.includes('--report-only')) {
    // Re-renders BENCHMARKS.md and the chart from the last full run (e.g. after editing bench/analysis.md).
    const file = join(REPO_ROOT, 'bench', 'results', 'latest.json');
    if (!existsSync(file)) throw new BenchError(`${file} is missing: run the full matrix first (pnpm bench)`);
    writeReport(JSON.parse(readFileSync(file, 'utf8')) as RunResults);
    return;
  }
  const quick = argv.includes('--quick');
  const t0 = performance.now();
  const elapsed = (): string => `${((performance.now() - t0) / 1000).toFixed(0).padStart(4)}s`;
  const progress = (line: string): void => void process.stdout.write(`[${elapsed()}] ${line}\n`);

  const fleetCli = workspaceBin('fake-sandbox', 'fake-sandbox');
  const workdir = mkdtempSync(join(tmpdir(), 'msbench-'));
  const oursBuild = installOurs(workdir, progress);
  const abRef = option(argv, 'ab');
  if (abRef !== undefined) {
    try {
      await abMain(argv, abRef, oursBuild, workdir, fleetCli, progress);
    } finally {
      if (!argv.includes('--keep-workdir')) rmSync(workdir, { recursive: true, force: true });
    }
    return;
  }
  const servers: ServerKind[] = [ours(oursBuild)];
  const theirsBinary = process.env.RUNSC_METRIC_SERVER;
  if (theirsBinary) {
    if (!existsSync(theirsBinary)) throw new BenchError(`RUNSC_METRIC_SERVER=${theirsBinary} does not exist`);
    servers.push(theirs(theirsBinary));
  }
  const ctx: GroupContext = {
    workdir,
    fleetCli,
    servers,
    floorConcurrency: FLOOR_CONCURRENCY,
    floorTimeoutMs: PER_SANDBOX_TIMEOUT_MS,
    progress,
  };
  // --profile-resources: the --profile-only profile, of the server with --resource-metrics.
  const profileResources = argv.includes('--profile-resources');
  const profileOnly = argv.includes('--profile-only') || profileResources;
  // --soak-only: rerun just the soak and put it into the last full run's results.
  const soakOnly = argv.includes('--soak-only');
  // --resources-only: rerun just the --resource-metrics comparison and merge it likewise.
  const resourcesOnly = argv.includes('--resources-only');
  const groups = profileOnly || soakOnly || resourcesOnly ? [] : buildMatrix({ quick });
  const total = groups.reduce((a, g) => a + g.scenarios.length, 0);
  progress(
    `${quick ? 'quick' : 'full'} run: ${total} scenarios in ${groups.length} fleets, servers: ` +
      `${servers.map((s) => s.name).join(', ')}; workdir ${workdir}`,
  );

  const scenarios: ScenarioResult[] = [];
  const soaks: SoakResult[] = [];
  const resources: ResourcesResult[] = [];
  let profile: ProfileResult | undefined;
  try {
    for (const [i, g] of groups.entries()) {
      progress(`fleet ${i + 1}/${groups.length}: ${g.sandboxes} sandboxes, ${g.stalled} stalled, ${g.transport}`);
      scenarios.push(...(await runGroup(ctx, g)));
    }
    if (!profileOnly && !soakOnly) {
      for (const n of quick ? [100] : [100, 1000]) {
        progress(`resources: N = ${n}, the server with and without --resource-metrics, and runsc events --stats`);
        const fleet = await bootFleet(ctx, `resources-n${n}-tcp`, n, 0, 'tcp');
        try {
          const flagged = ours(oursBuild, 'ours-resources', ['--resource-metrics']);
          const opts = quick ? { blocks: 1, rounds: 4 } : { blocks: 2, rounds: n >= 1000 ? 8 : 12 };
          resources.push(await resourcesBench(ctx, fleet, ours(oursBuild), flagged, opts));
        } finally {
          await fleet.child.stop();
        }
      }
      if (resourcesOnly) {
        const file = join(REPO_ROOT, 'bench', 'results', 'latest.json');
        const last = JSON.parse(readFileSync(file, 'utf8')) as RunResults;
        const merged: RunResults = { ...last, resources };
        writeFileSync(file, `${JSON.stringify(merged, null, 2)}\n`);
        writeReport(merged);
        process.stdout.write(`\n${resourcesTable(merged)}\n`);
        progress('resources merged into bench/results/latest.json; BENCHMARKS.md rewritten');
        return;
      }
    }
    // Soak and profile share one N = 1000 fleet.
    const fleet = await bootFleet(ctx, 'soak-n1000-tcp', 1000, 0, 'tcp');
    try {
      const budgetMs = quick ? 25_000 : 480_000;
      const requested = quick ? 20 : SOAK_SCRAPES;
      for (const kind of profileOnly ? [] : servers) {
        progress(`soak ${kind.name}: up to ${requested} scrapes at N = 1000 (budget ${budgetMs / 1000} s)`);
        const s = await soak(ctx, fleet, kind, requested, kind.name === 'ours' ? budgetMs : budgetMs / 4, !quick);
        soaks.push(s);
        progress(
          `soak ${kind.name}: ${s.scrapes} scrapes in ${s.seconds.toFixed(0)} s, rss ` +
            `${(s.rssFirstBytes / 2 ** 20).toFixed(0)} -> ${(s.rssLastBytes / 2 ** 20).toFixed(0)} MB`,
        );
      }
      if (soakOnly) {
        const file = join(REPO_ROOT, 'bench', 'results', 'latest.json');
        const last = JSON.parse(readFileSync(file, 'utf8')) as RunResults;
        const merged: RunResults = { ...last, soak: soaks };
        writeFileSync(file, `${JSON.stringify(merged, null, 2)}\n`);
        writeReport(merged);
        progress('soak merged into bench/results/latest.json; BENCHMARKS.md rewritten');
        return;
      }
      progress('profiling ours at N = 1000 (node --cpu-prof)');
      const profiled = profileResources ? ours(oursBuild, 'ours', ['--resource-metrics']) : (servers[0] as ServerKind);
      profile = await profileOurs(fleet, profiled, quick ? 3 : 10);
      progress(`profile: ${profile.file}`);
      if (profileOnly) {
        process.stdout.write(`${profileSection(profile)}\n`);
        return;
      }
    } finally {
      await fleet.child.stop();
    }
  } finally {
    if (!argv.includes('--keep-workdir')) rmSync(workdir, { recursive: true, force: true });
  }

  const results: RunResults = {
    mode: quick ? 'quick' : 'full',
    date: new Date().toISOString(),
    machine: describeMachine(),
    servers: servers.map((s) => s.name),
    ...(theirsBinary ? { theirsBinary } : {}),
    perSandboxTimeoutMs: PER_SANDBOX_TIMEOUT_MS,
    oursInstall: process.env.BENCH_SERVER_BIN
      ? `BENCH_SERVER_BIN=${process.env.BENCH_SERVER_BIN}`
      : 'npm pack output installed by npm into an empty directory',
    ...(oursBuild.nodeOptions ? { oursNodeOptions: oursBuild.nodeOptions } : {}),
    floorConcurrency: FLOOR_CONCURRENCY,
    durationSeconds: (performance.now() - t0) / 1000,
    scenarios,
    soak: soaks,
    resources,
    ...(profile ? { profile: { ...profile, file: profile.file.replace(workdir, '<workdir>') } } : {}),
  };
  const resultsDir = join(REPO_ROOT, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, quick ? 'quick.json' : 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  const table = scenarioTable(results);
  const v = verdicts(results);
  process.stdout.write(
    `\n${table}\n\n${v.map((x) => `${x.met ? 'MET    ' : 'NOT MET'} ${x.target}: ${x.detail}`).join('\n')}\n`,
  );
  if (!quick) {
    writeReport(results);
    progress('wrote bench/results/latest.json, bench/results/latency.svg and BENCHMARKS.md');
  } else {
    progress('wrote bench/results/quick.json (BENCHMARKS.md is written by the full run only)');
  }
}

/** `--ab`: the paired A/B run (see ab.ts); prints its table and writes bench/results/ab.json. */
async function abMain(
  argv: string[],
  ref: string,
  a: OursBuild,
  workdir: string,
  fleetCli: string,
  progress: (line: string) => void,
): Promise<void> {
  const n = Number(option(argv, 'ab-n') ?? 1000);
  const rounds = Number(option(argv, 'ab-rounds') ?? 30);
  const coldStarts = Number(option(argv, 'ab-cold') ?? 3);
  const flags = option(argv, 'ab-flags')?.split(',') ?? [];
  const self = ref === 'self';
  const b = self
    ? {
        build: { ...a, nodeOptions: process.env.BENCH_AB_NODE_OPTIONS || undefined },
        label: 'the same build',
        cleanup: () => {},
      }
    : buildRef(ref, workdir, progress);
  const bLabel = `${b.label}${b.build.nodeOptions ? ` with NODE_OPTIONS=${b.build.nodeOptions}` : ''}`;
  const aLabel = `workspace (${gitHead()})${a.nodeOptions ? ` with NODE_OPTIONS=${a.nodeOptions}` : ''}`;
  try {
    const ctx: GroupContext = {
      workdir,
      fleetCli,
      servers: [],
      floorConcurrency: FLOOR_CONCURRENCY,
      floorTimeoutMs: PER_SANDBOX_TIMEOUT_MS,
      progress,
    };
    const fleet = await bootFleet(ctx, `ab-n${n}`, n, 0, 'tcp');
    try {
      const result = await runAb(
        fleet,
        a,
        b.build,
        { a: aLabel, b: bLabel },
        { b: ref, rounds, coldStarts, flags },
        progress,
      );
      const table = abTable(result);
      process.stdout.write(`\n${table}\n`);
      const resultsDir = join(REPO_ROOT, 'bench', 'results');
      mkdirSync(resultsDir, { recursive: true });
      writeFileSync(join(resultsDir, 'ab.json'), `${JSON.stringify(result, null, 2)}\n`);
      progress('wrote bench/results/ab.json');
    } finally {
      await fleet.child.stop();
    }
  } finally {
    b.cleanup();
  }
}

function gitHead(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/**
 * Ours as a user runs it: the packed package installed by npm into an empty directory,
 * its bin started with no node flags. BENCH_SERVER_BIN runs another bin instead (trying a
 * fix); BENCH_NODE_OPTIONS adds NODE_OPTIONS (experiments; users set none).
 */
function installOurs(workdir: string, progress: (line: string) => void): OursBuild {
  const nodeOptions = process.env.BENCH_NODE_OPTIONS || undefined;
  const override = process.env.BENCH_SERVER_BIN;
  if (override) {
    if (!existsSync(override)) throw new BenchError(`BENCH_SERVER_BIN=${override} does not exist`);
    return { bin: override, entry: override, nodeOptions };
  }
  const t0 = performance.now();
  const packed = installPackedServer(join(workdir, 'ours'), join(REPO_ROOT, 'packages', 'server'));
  progress(`installed the packed server with npm in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${packed.bin}`);
  return { bin: packed.bin, entry: packed.entry, nodeOptions };
}

function writeReport(r: RunResults): void {
  const resultsDir = join(REPO_ROOT, 'bench', 'results');
  writeFileSync(
    join(resultsDir, 'latency.svg'),
    latencyChart('p50 scrape latency vs sandboxes (0% stalled, 1 scraper, TCP)', chartSeries(r)),
  );
  writeFileSync(join(REPO_ROOT, 'BENCHMARKS.md'), benchmarksMd(r));
}

/** Who else was measured, or how to add another server. */
function theirsNote(r: RunResults): string {
  return r.servers.includes('theirs')
    ? `**theirs** is \`${r.theirsBinary}\` (RUNSC_METRIC_SERVER) on the same fleets.`
    : "Set `RUNSC_METRIC_SERVER=/path/to/runsc` to add another metric server (taking runsc's flags) on the same " +
        'fleets; the table then shows ours/theirs.';
}

function nodeOptionsNote(r: RunResults): string {
  return r.oursNodeOptions ? ` (this run added NODE_OPTIONS=\`${r.oursNodeOptions}\`)` : '';
}

function benchmarksMd(r: RunResults): string {
  const m = r.machine;
  const analysisFile = join(REPO_ROOT, 'bench', 'analysis.md');
  const analysis = existsSync(analysisFile)
    ? readFileSync(analysisFile, 'utf8').trim()
    : '_(bench/analysis.md missing)_';
  const v = verdicts(r);
  return `# Benchmarks

<!-- Generated by \`pnpm bench\` (bench/src/main.ts) from bench/results/latest.json; the prose under
"What is slow and why" comes from bench/analysis.md. Do not edit by hand. -->

What one Prometheus scrape of \`runsc-metric-server\` costs on a host with 1 to 1000 gVisor sandboxes, compared with
**the floor**: a bare client in the bench process that connects to the same N control sockets, sends
\`Metrics.Export\` and reads each reply to its end (no decoding, no verification, no rendering), measured in the same
run, alternating round by round with the server's scrapes so machine noise hits both alike. ${theirsNote(r)}

Run: \`pnpm bench\` (full matrix, ${(r.durationSeconds / 60).toFixed(1)} min in this run) or \`pnpm bench --quick\`
(a subset, under 2 min).
The prom-format exposition-builder micro-benchmark is \`pnpm bench:builder\`.

- Date: ${r.date} (${r.mode} run)
- Machine: ${m.nproc} CPUs (${m.cpuModel}), ${(m.memoryBytes / 2 ** 30).toFixed(1)} GiB RAM, Linux ${m.kernel},
  Node ${m.node}.
  Shared with other jobs: read **ratios within one run**, not absolute figures.
- Fleet: \`fake-sandbox fleet --hosts 4\` (the real registration, seeded realistic snapshots of ~30 to ~170 samples,
  all sandboxes served by one fleet process); stalled sandboxes use behaviour \`no-answer\` (they accept and never
  reply).
- Ours is what a user runs: ${r.oursInstall ?? 'the workspace build'}, its
  \`node_modules/.bin/runsc-metric-server\` started with no node flags${nodeOptionsNote(r)}, with
  \`--per-sandbox-timeout=${r.perSandboxTimeoutMs}ms\` (default 8 s would make the stalled matrix take minutes) and its
  default \`--scrape-concurrency=1024\`; the floor uses the same deadline and ${r.floorConcurrency} sockets at once.
- CPU per scrape: utime+stime of the server process (/proc/<pid>/stat) over the scrape rounds only, divided by scrapes
  (resolution 10 ms per round). Floor CPU: \`process.cpuUsage()\` of the bench process over the floor rounds.
  RSS steady: VmRSS after the last round; peak: VmHWM.
- p99 from a handful of scrapes is the maximum; the "scrapes" column says how many samples each row has.

## Targets (issues 7, 18 and 20)

| target | met? | figures |
|---|---|---|
${v.map((x) => `| ${x.target} | ${x.met ? 'yes' : '**no**'} | ${x.detail} |`).join('\n')}

## Cold start

A fresh server on a fleet that is already running (a DaemonSet rolling update): spawned, then scraped the moment its
address accepts a connection, as Prometheus does with a new target. "All loaded" comes from a second fresh start that
is not scraped at all: the time until \`/runsc-metrics/status\` lists every sandbox as loaded.

${coldTable(r)}

## Latency vs N

![p50 scrape latency vs N](bench/results/latency.svg)

## All scenarios

${scenarioTable(r)}

## RSS soak

${r.soak
  .map(
    (s) =>
      `- ${s.server}: ${s.scrapes} consecutive scrapes at N = ${s.sandboxes} in ${s.seconds.toFixed(0)} ` +
      `s${s.stoppedByBudget ? ` (${s.requested} requested; the full run's time budget ended it there)` : ''}: ` +
      `after ${s.warmupScrapes} warm-up scrapes, RSS median over the first tenth ${mb(s.rssFirstBytes)} MB, over ` +
      `the last tenth ${mb(s.rssLastBytes)} MB, ` +
      `least-squares trend ${(s.rssSlopePer100Bytes / 2 ** 20).toFixed(2)} MB per 100 scrapes, peak ` +
      `${mb(s.rssPeakBytes)} MB` +
      (s.bodyFirstBytes !== undefined
        ? `; meanwhile the exposition went from ${(s.bodyFirstBytes / 2 ** 20).toFixed(1)} to ` +
          `${(s.bodyLastBytes / 2 ** 20).toFixed(1)} MB per scrape (the fake sandboxes' counters keep growing, so ` +
          `their values take more digits).`
        : '.') +
      ` In the full run the server starts only once the fleet is past its first ${SERIES_RAMP_SECONDS} s, in which ` +
      `fake sandboxes add series (their expositions grow ~15% then), so every judged scrape sees the same series.`,
  )
  .join('\n')}

## Resource metrics (\`--resource-metrics\`)

${resourcesTable(r)}

## CPU profile of ours at N = 1000

${r.profile ? profileSection(r.profile) : '_(not run)_'}

## What is slow and why

${analysis}
`;
}

const mb = (b: number): string => (b / 2 ** 20).toFixed(0);

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
