// Benchmark (not a test): the exposition builder vs prom-client 15's registry.metrics()
// on the same series. Run with `pnpm bench` in this package (`pnpm bench:builder` at the
// root). Prints ns/series, MB/s and the ratio; the figures in README.md come from this script.
import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Data, SnapshotExport } from '../src/index.js';
import { ExpositionBuilder, FamilyPool, intNumber, pointsOf } from '../src/index.js';

const METRICS_PER_SANDBOX = 100; // half counters, half gauges, one field label each
const WHEN = { seconds: 1795819685, nanos: 333741011 };

function snapshots(series: number): SnapshotExport[] {
  const sandboxes = series / METRICS_PER_SANDBOX;
  const out: SnapshotExport[] = [];
  for (let s = 0; s < sandboxes; s++) {
    const data: Data[] = [];
    for (let m = 0; m < METRICS_PER_SANDBOX; m++) {
      data.push({
        metric: { name: `metric_${m}`, type: m % 2 === 0 ? 2 : 1, help: `Help text of metric ${m}.` },
        labels: { field: `value_${m % 5}` },
        number: intNumber(s * 1000 + m),
      });
    }
    out.push({
      snapshot: pointsOf({ when: WHEN, data }),
      exporterPrefix: 'runsc_',
      extraLabels: { sandbox: `sandbox-${s}`, iteration: '0123456789abcdef' },
    });
  }
  return out;
}

function promClientRegistry(series: number): Registry {
  const registry = new Registry();
  const sandboxes = series / METRICS_PER_SANDBOX;
  for (let m = 0; m < METRICS_PER_SANDBOX; m++) {
    const cfg = {
      name: `runsc_metric_${m}`,
      help: `Help text of metric ${m}.`,
      labelNames: ['field', 'iteration', 'sandbox'],
      registers: [registry],
    };
    const metric = m % 2 === 0 ? new Counter(cfg) : new Gauge(cfg);
    for (let s = 0; s < sandboxes; s++) {
      const labels = { field: `value_${m % 5}`, iteration: '0123456789abcdef', sandbox: `sandbox-${s}` };
      if (metric instanceof Counter) metric.inc(labels, s * 1000 + m);
      else metric.set(labels, s * 1000 + m);
    }
  }
  return registry;
}

type Runner = () => Promise<number> | number;

/**
 * Runs the candidates in turn, round after round, so a load spike on the shared
 * machine hits all of them alike; returns each one's median time and output size.
 */
async function timeInTurn(rounds: number, runners: Runner[]): Promise<{ ms: number; bytes: number }[]> {
  const times: number[][] = runners.map(() => []);
  const bytes: number[] = runners.map(() => 0);
  for (let r = 0; r < rounds + 2; r++) {
    for (let k = 0; k < runners.length; k++) {
      const t0 = performance.now();
      bytes[k] = await runners[k]!();
      const t = performance.now() - t0;
      if (r >= 2) times[k]!.push(t); // two warm-up rounds
    }
  }
  return times.map((ts, k) => {
    ts.sort((a, b) => a - b);
    return { ms: ts[Math.floor(ts.length / 2)]!, bytes: bytes[k]! };
  });
}

function row(name: string, series: number, r: { ms: number; bytes: number }): string {
  const ns = (r.ms * 1e6) / series;
  const mbs = r.bytes / 1e6 / (r.ms / 1e3);
  return `${name.padEnd(34)} ${String(series).padStart(7)} ${ns.toFixed(0).padStart(10)} ${mbs.toFixed(1).padStart(8)} ${(r.bytes / 1e6).toFixed(2).padStart(8)}`;
}

async function main(): Promise<void> {
  console.log(`node ${process.version}, ${new Date().toISOString()}`);
  console.log(
    `${'renderer'.padEnd(34)} ${'series'.padStart(7)} ${'ns/series'.padStart(10)} ${'MB/s'.padStart(8)} ${'MB out'.padStart(8)}`,
  );
  // As the server runs it: one pool and one map of size hints kept from build to build.
  const pool = new FamilyPool();
  const sizeHints = new Map<string, number>();
  for (const series of [10_000, 100_000]) {
    const rounds = series >= 100_000 ? 15 : 41;
    const snaps = snapshots(series);
    const registry = promClientRegistry(series);
    const [ours, oursFresh, theirs] = await timeInTurn(rounds, [
      () => {
        const b = new ExpositionBuilder({ pool, sizeHints });
        for (const s of snaps) b.add(s);
        const body = b.finishPieces();
        body.release();
        return body.bytes;
      },
      () => {
        const b = new ExpositionBuilder();
        for (const s of snaps) b.add(s);
        return b.finish().length;
      },
      async () => Buffer.byteLength(await registry.metrics()),
    ]);
    console.log(row('builder finishPieces(), pooled', series, ours!));
    console.log(row('builder finish(), fresh buffers', series, oursFresh!));
    console.log(row('prom-client registry.metrics()', series, theirs!));
    console.log(
      `${'ratio prom-client / pooled'.padEnd(34)} ${String(series).padStart(7)} ${(theirs!.ms / ours!.ms).toFixed(2).padStart(10)}x`,
    );
  }
  console.log('(our output carries a timestamp on every line; prom-client writes none)');
}

await main();
