// Turns a run's results into the markdown of BENCHMARKS.md and the chart's series.

import type { ColdStart } from './cold.js';
import type { Machine } from './proc.js';
import type { ProfileResult } from './profile.js';
import type { ResourcesResult } from './resources.js';
import type { ScenarioResult, ServerPhase } from './runner.js';
import type { SoakResult } from './soak.js';
import type { Series } from './svg.js';

export interface RunResults {
  readonly mode: 'quick' | 'full';
  readonly date: string;
  readonly machine: Machine;
  readonly servers: readonly string[];
  readonly theirsBinary?: string;
  readonly perSandboxTimeoutMs: number;
  /** Node flags ours ran with in older runs (the Dockerfile's NODE_OPTIONS); newer runs start the bin as installed. */
  readonly oursNodeFlags?: readonly string[];
  /** How ours was installed (npm pack output installed by npm, or BENCH_SERVER_BIN). */
  readonly oursInstall?: string;
  /** NODE_OPTIONS added to ours (BENCH_NODE_OPTIONS experiments). */
  readonly oursNodeOptions?: string;
  readonly floorConcurrency: number;
  readonly durationSeconds: number;
  readonly scenarios: readonly ScenarioResult[];
  readonly soak: readonly SoakResult[];
  /** --resource-metrics against runsc events --stats (absent in runs before issue 20). */
  readonly resources?: readonly ResourcesResult[];
  readonly profile?: ProfileResult;
}

/** The --resource-metrics targets (issue 20): judged at N = 1000. */
export const RESOURCES_ANCHOR_SHARE = 1 / 50;
export const RESOURCES_FLOOR_RATIO = 1.3;

/** What --resource-metrics adds per scrape, and the anchor's CPU for the same containers. */
export function resourcesTable(r: RunResults): string {
  const rows = r.resources ?? [];
  if (rows.length === 0) return '_(not measured in this run: `pnpm bench --resources-only` adds it)_';
  const head =
    '| N (containers) | server CPU/scrape without | with | added | anchor: runsc events --stats, CPU for all ' +
    '| added / anchor | p50 with the flag | floor (Export + Event) p50 | ratio | p50 without / its floor |\n' +
    '|---|---|---|---|---|---|---|---|---|---|';
  const body = rows.map((x) => {
    const added = x.withFlag.cpuSecondsPerScrape - x.plain.cpuSecondsPerScrape;
    const anchor = x.anchor
      ? `${x.anchor.cpuSeconds.toFixed(2)} s (${((x.anchor.cpuSeconds / x.anchor.calls) * 1000).toFixed(1)} ms ` +
        `a call${x.anchor.failed > 0 ? `, ${x.anchor.failed} failed` : ''})`
      : 'runsc not installed';
    return (
      `| ${x.sandboxes} (${x.containers}) | ${ms(x.plain.cpuSecondsPerScrape * 1000)} ms | ` +
      `${ms(x.withFlag.cpuSecondsPerScrape * 1000)} ms | ${ms(added * 1000)} ms | ${anchor} | ` +
      `${x.anchor ? `1/${(x.anchor.cpuSeconds / Math.max(added, 1e-6)).toFixed(0)}` : '–'} | ` +
      `${ms(x.withFlag.p50Ms)} ms | ${ms(x.withFlag.floorP50Ms)} ms | ${ratio(x.withFlag.p50Ms, x.withFlag.floorP50Ms)} | ` +
      `${ms(x.plain.p50Ms)} / ${ms(x.plain.floorP50Ms)} ms |`
    );
  });
  const notes = [
    '',
    'Per N, one fleet of fake sandboxes (one container each; `containerManager.Event` answered as runsc does, ' +
      'CPU, memory and both interfaces moving). The packed bin is started fresh without and with ' +
      '`--resource-metrics`, in alternating order over ' +
      `${rows[0]?.blocks ?? 0} blocks, warmed up by 3 scrapes; each measured scrape alternates with a floor pass. ` +
      '"Added" is the difference of the two CPU figures (10 ms tick resolution per scrape, summed over ' +
      `${rows[0]?.withFlag.scrapes ?? 0} scrapes per variant). The floor for the flag connects to every sandbox, ` +
      'sends `Metrics.Export`, then `containerManager.Event` for each of its containers on the same connection one at ' +
      "a time (as the server must), reads every reply to its end, and reads the sandbox's host cgroup CPU usage " +
      'file once (what runsc events --stats shares out; a descriptor opened before the runs). ' +
      "**The anchor** is what containerd's runsc shim does for each stats request: one `runsc --root=<fleet root> " +
      "events --stats <id>` process per container (the real CLI, which reads the fake fleet's state files and " +
      "calls the same method), in turn; its CPU is the children utime+stime of the bench process, runsc's side " +
      'only. The sandboxes answer both the same way, so their side is left out of both.',
    `Served series checked: ${rows.map((x) => `${x.cpuSeriesServed}/${x.containers} at N = ${x.sandboxes}`).join(', ')}.`,
  ];
  return [head, ...body, ...notes].join('\n');
}

const MB = 2 ** 20;
const mb = (b: number): string => (b / MB).toFixed(0);
const ms = (v: number): string =>
  Number.isNaN(v) ? '–' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
const ratio = (a: number, b: number): string => (b > 0 && Number.isFinite(a / b) ? `${(a / b).toFixed(2)}x` : '–');

export function scenarioTable(r: RunResults): string {
  const theirs = r.servers.includes('theirs');
  const head = [
    'N',
    'stalled',
    'scrapers',
    'transport',
    'scrapes',
    'ours p50 / p95 / p99 ms',
    'floor p50 ms',
    '**ours/floor p50**',
    ...(theirs ? ['theirs p50 / p99 ms', '**ours/theirs p50**'] : []),
    'ours CPU ms/scrape',
    'floor CPU ms/pass',
    'ours RSS steady / peak MB',
    'KB/scrape',
    'healthy in every scrape',
  ];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const s of r.scenarios) {
    const o = s.servers.ours as ServerPhase | undefined;
    const t = s.servers.theirs;
    const sc = s.scenario;
    lines.push(
      `| ${[
        sc.sandboxes,
        sc.stalled > 0 ? `${sc.stalled} (${Math.round(sc.stalledShare * 100)}%)` : '0',
        sc.scrapers,
        sc.transport,
        o?.scrapes ?? '–',
        o ? `${ms(o.latencyMs.p50)} / ${ms(o.latencyMs.p95)} / ${ms(o.latencyMs.p99)}` : '–',
        ms(s.floor.latencyMs.p50),
        o ? `**${ratio(o.latencyMs.p50, s.floor.latencyMs.p50)}**` : '–',
        ...(theirs
          ? [
              t ? `${ms(t.latencyMs.p50)} / ${ms(t.latencyMs.p99)}` : '–',
              o && t ? `**${ratio(o.latencyMs.p50, t.latencyMs.p50)}**` : '–',
            ]
          : []),
        o ? (o.cpuSecondsPerScrape * 1000).toFixed(1) : '–',
        (s.floor.cpuSecondsPerPass * 1000).toFixed(1),
        o ? `${mb(o.rssSteadyBytes)} / ${mb(o.rssPeakBytes)}` : '–',
        o ? (o.bytesPerScrape / 1024).toFixed(0) : '–',
        o
          ? o.checkedScrapes === 0
            ? '–'
            : o.scrapesMissingHealthy === 0
              ? `yes (${o.checkedScrapes} checked)`
              : `**NO: ${o.scrapesMissingHealthy}/${o.checkedScrapes}**`
          : '–',
      ].join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

export interface Verdict {
  readonly target: string;
  readonly met: boolean;
  readonly detail: string;
}

/** The issue's targets, judged on this run's figures. */
export function verdicts(r: RunResults): Verdict[] {
  const out: Verdict[] = [];
  const res1000 = (r.resources ?? []).find((x) => x.sandboxes === 1000);
  if (res1000?.anchor) {
    const added = res1000.withFlag.cpuSecondsPerScrape - res1000.plain.cpuSecondsPerScrape;
    out.push({
      target: '--resource-metrics at N = 1000: added CPU per scrape at most 1/50 of runsc events --stats per container',
      met: added <= res1000.anchor.cpuSeconds * RESOURCES_ANCHOR_SHARE,
      detail:
        `added ${(added * 1000).toFixed(0)} ms against ${res1000.anchor.cpuSeconds.toFixed(2)} s for ` +
        `${res1000.anchor.calls} runsc processes (limit ${(res1000.anchor.cpuSeconds * RESOURCES_ANCHOR_SHARE * 1000).toFixed(0)} ms)`,
    });
  }
  if (res1000) {
    const x = res1000.withFlag;
    out.push({
      target: '--resource-metrics at N = 1000: p50 scrape within 1.3x of the floor (Export + Event)',
      met: x.p50Ms <= x.floorP50Ms * RESOURCES_FLOOR_RATIO,
      detail: `${ms(x.p50Ms)} ms against ${ms(x.floorP50Ms)} ms: ${ratio(x.p50Ms, x.floorP50Ms)}`,
    });
  }
  const big = r.scenarios.filter((s) => s.scenario.sandboxes === 1000 && s.scenario.stalled === 0 && s.servers.ours);
  if (big.length > 0) {
    const worst = Math.max(...big.map((s) => (s.servers.ours as ServerPhase).latencyMs.p50 / s.floor.latencyMs.p50));
    out.push({
      target: 'N = 1000: p50 scrape within 1.3x of the floor',
      met: worst <= 1.3,
      detail: big
        .map((s) => `${s.scenario.key}: ${ratio((s.servers.ours as ServerPhase).latencyMs.p50, s.floor.latencyMs.p50)}`)
        .join(', '),
    });
  }
  const half = r.scenarios.filter((s) => s.scenario.stalledShare === 0.5 && s.servers.ours);
  if (half.length > 0) {
    const miss = half.filter((s) => (s.servers.ours as ServerPhase).scrapesMissingHealthy > 0);
    out.push({
      target: '50% stalled: every healthy sandbox present in every scrape',
      met: miss.length === 0,
      detail:
        miss.length === 0 ? `all ${half.length} scenarios` : `missing in ${miss.map((s) => s.scenario.key).join(', ')}`,
    });
    const slow = half.filter(
      (s) => (s.servers.ours as ServerPhase).latencyMs.p99 > (s.servers.ours as ServerPhase).deadlineMs + 100,
    );
    out.push({
      target: `50% stalled: p99 within the per-sandbox deadline (${r.perSandboxTimeoutMs} ms) + 100 ms`,
      met: slow.length === 0,
      detail: half
        .map((s) => {
          const o = s.servers.ours as ServerPhase;
          return (
            `${s.scenario.key}: p99 ${ms(o.latencyMs.p99)} ms ` +
            `${o.latencyMs.p99 <= o.deadlineMs + 100 ? '(ok)' : '(over)'}`
          );
        })
        .join(', '),
    });
  }
  const rssBig = r.scenarios.filter((s) => s.scenario.sandboxes === 1000 && s.servers.ours);
  if (rssBig.length > 0) {
    const peak = Math.max(
      ...rssBig.map((s) => (s.servers.ours as ServerPhase).rssPeakBytes),
      ...r.soak.filter((x) => x.server === 'ours').map((x) => x.rssPeakBytes),
    );
    out.push({
      target: 'RSS at N = 1000 under 150 MB',
      met: peak < 150 * MB,
      detail: `highest peak (VmHWM) over all N = 1000 runs: ${mb(peak)} MB`,
    });
  }
  // Cold verdicts over every transport the run measured (the worst one decides).
  const coldRows = (n: number): ScenarioResult[] =>
    r.scenarios.filter(
      (s) =>
        s.scenario.sandboxes === n && s.scenario.stalled === 0 && s.scenario.scrapers === 1 && s.servers.ours?.cold,
    );
  const cold1000 = coldRows(1000);
  if (cold1000.length > 0) {
    const cs = cold1000.map((s) => (s.servers.ours as ServerPhase).cold as ColdStart);
    out.push({
      target: "cold: a fresh server's first scrape at N = 1000 within 1.0 s, holding every sandbox",
      met: cs.every((c) => c.firstScrapeMs <= 1000 && c.firstScrapeSandboxes === c.sandboxes),
      detail: cold1000
        .map((s) => {
          const c = (s.servers.ours as ServerPhase).cold as ColdStart;
          return (
            `${s.scenario.transport}: first scrape ${ms(c.firstScrapeMs)} ms with ` +
            `${c.firstScrapeSandboxes}/${c.sandboxes} sandboxes (listening ${ms(c.listenMs)} ms after the spawn; ` +
            `all loaded ${c.loadedMs === undefined ? '–' : ms(c.loadedMs)} ms after it)`
          );
        })
        .join('; '),
    });
  }
  const cold100 = coldRows(100);
  if (cold100.length > 0) {
    out.push({
      target: "cold: a fresh server's first scrape at N = 100 at most 2x a steady scrape",
      met: cold100.every((s) => {
        const o = s.servers.ours as ServerPhase;
        const c = o.cold as ColdStart;
        return c.firstScrapeMs <= 2 * o.latencyMs.p50 && c.firstScrapeSandboxes === c.sandboxes;
      }),
      detail: cold100
        .map((s) => {
          const o = s.servers.ours as ServerPhase;
          const c = o.cold as ColdStart;
          return (
            `${s.scenario.transport}: first scrape ${ms(c.firstScrapeMs)} ms with ` +
            `${c.firstScrapeSandboxes}/${c.sandboxes} sandboxes, steady p50 ${ms(o.latencyMs.p50)} ms: ` +
            `${ratio(c.firstScrapeMs, o.latencyMs.p50)}`
          );
        })
        .join('; '),
    });
  }
  const soak = r.soak.find((x) => x.server === 'ours');
  if (soak) {
    // "No growth": the last tenth's median within 5 MB of the first tenth's, and under 1 MB per 100 scrapes trend.
    const grew = soak.rssLastBytes - soak.rssFirstBytes;
    out.push({
      target: `no RSS growth across consecutive scrapes at N = ${soak.sandboxes}`,
      // Too few scrapes (quick mode) judge nothing: never report that as met.
      met: soak.scrapes >= 100 && grew < 5 * MB && soak.rssSlopePer100Bytes < MB,
      detail:
        `${soak.scrapes} ` +
        `scrapes${soak.stoppedByBudget ? ` (of ${soak.requested}: the time budget ended it)` : ''}, ` +
        `${soak.warmupScrapes} warm-up scrapes not judged: first-tenth median ${mb(soak.rssFirstBytes)} MB, ` +
        `last-tenth median ${mb(soak.rssLastBytes)} MB, trend ${(soak.rssSlopePer100Bytes / MB).toFixed(2)} MB per ` +
        `100 scrapes, peak ${mb(soak.rssPeakBytes)} MB` +
        (soak.scrapes < 100 ? ' [too few scrapes to judge: quick mode]' : '') +
        (soak.bodyFirstBytes !== undefined
          ? ` (exposition ${(soak.bodyFirstBytes / MB).toFixed(1)} -> ${(soak.bodyLastBytes / MB).toFixed(1)} MB per ` +
            `scrape over the same scrapes)`
          : ''),
    });
  }
  return out;
}

/** The cold scenario per fleet without stalled sandboxes: a fresh server on a running fleet. */
export function coldTable(r: RunResults): string {
  const rows = r.scenarios.filter(
    (s) => s.scenario.scrapers === 1 && s.scenario.stalled === 0 && s.servers.ours?.cold !== undefined,
  );
  if (rows.length === 0) return '_(not measured in this run)_';
  const lines = [
    '| N | transport | listening after ms | first scrape ms | sandboxes in it | all loaded after ms (no scrape) | ' +
      'steady p50 ms | first / steady |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const s of rows) {
    const o = s.servers.ours as ServerPhase;
    const c = o.cold as ColdStart;
    lines.push(
      `| ${s.scenario.sandboxes} | ${s.scenario.transport} | ${ms(c.listenMs)} | ${ms(c.firstScrapeMs)} | ` +
        `${c.firstScrapeSandboxes}/${c.sandboxes} | ${c.loadedMs === undefined ? '–' : ms(c.loadedMs)} | ` +
        `${ms(o.latencyMs.p50)} | ${ratio(c.firstScrapeMs, o.latencyMs.p50)} |`,
    );
  }
  return lines.join('\n');
}

export function chartSeries(r: RunResults): Series[] {
  const pick = (s: ScenarioResult): boolean =>
    s.scenario.stalled === 0 && s.scenario.scrapers === 1 && s.scenario.transport === 'tcp';
  const rows = r.scenarios.filter(pick).sort((a, b) => a.scenario.sandboxes - b.scenario.sandboxes);
  const series: Series[] = [
    {
      name: 'ours',
      color: '#1f77b4',
      points: rows
        .filter((s) => s.servers.ours)
        .map((s) => ({ n: s.scenario.sandboxes, ms: (s.servers.ours as ServerPhase).latencyMs.p50 })),
    },
  ];
  if (r.servers.includes('theirs')) {
    series.push({
      name: 'theirs',
      color: '#d62728',
      points: rows
        .filter((s) => s.servers.theirs)
        .map((s) => ({ n: s.scenario.sandboxes, ms: (s.servers.theirs as ServerPhase).latencyMs.p50 })),
    });
  }
  series.push({
    name: 'floor (bare urpc client)',
    color: '#2ca02c',
    dash: '6 4',
    points: rows.map((s) => ({ n: s.scenario.sandboxes, ms: s.floor.latencyMs.p50 })),
  });
  return series;
}

export function profileSection(p: ProfileResult): string {
  const lines = [
    p.startupBusyMs === undefined
      ? `${p.scrapes} scrapes at N = 1000 under \`node --cpu-prof\` (plus one discovery scrape): ` +
        `${(p.busyMs / 1000).toFixed(2)} s busy (non-idle) in total, ` +
        `${(p.busyMs / (p.scrapes + 1)).toFixed(0)} ms per scrape; p50 latency ${p.latencyP50Ms.toFixed(0)} ms, RSS ` +
        `${mb(p.rssBytes)} MB (peak ${mb(p.rssPeakBytes)} MB) at the end.`
      : `${p.scrapes} steady scrapes at N = 1000 under \`node --cpu-prof\`: ${(p.busyMs / 1000).toFixed(2)} s busy ` +
        `(non-idle), ${(p.busyMs / p.scrapes).toFixed(0)} ms per scrape ` +
        `(not counted: ${(p.startupBusyMs / 1000).toFixed(2)} s of start-up and the first scrape, whose discovery ` +
        `parses and interns every state file); ` +
        `p50 latency ${p.latencyP50Ms.toFixed(0)} ms, RSS ${mb(p.rssBytes)} MB (peak ${mb(p.rssPeakBytes)} MB) at ` +
        `the end.`,
    '',
    '| where | self ms | share of busy |',
    '|---|---|---|',
    ...p.byArea.map((a) => `| ${a.name} | ${a.selfMs.toFixed(0)} | ${(a.share * 100).toFixed(1)}% |`),
    '',
    'Top functions by self time:',
    '',
    '| function | location | self ms | share |',
    '|---|---|---|---|',
    // A `|` inside a cell (regexp names) must be escaped even within backticks.
    ...p.topFunctions.map(
      (f) =>
        `| \`${f.name.replace(/\|/g, '\\|')}\` | ${f.where} | ${f.selfMs.toFixed(0)} | ` +
        `${(f.share * 100).toFixed(1)}% |`,
    ),
  ];
  return lines.join('\n');
}
