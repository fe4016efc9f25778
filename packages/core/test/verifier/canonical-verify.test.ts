// The canonical decoder's points are columns the verifier reads through one scratch
// Data. Verifying one must give exactly the verdicts (and keep exactly the memos) that
// verifying its plain data gives, over sequences with lies, duplicates, decreasing
// counters and clocks going back.
import {
  DecodedPoints,
  decodeExportResult,
  decodeRegistration,
  goJsonString,
  type Labels,
  type Metric,
  parseJson,
  pointsOf,
  type Snapshot,
  type Timestamp,
} from '@org/metricserver-prom-format';
import { describe, expect, it } from 'vitest';
import { readCapture } from '../../../../test-support/captures.js';
import { rng } from '../../../../test-support/rng.js';
import { snapshotDecoderFor, Verifier, type VerifyResult } from '../../src/verifier/index.js';
import { rulesFor } from '../../src/verifier/rules.js';

/** Points as columns, filled by hand (no decoder claims them). */
function columns(when: Timestamp, metrics: Metric[], labels: Labels[], ints: number[]): DecodedPoints {
  const p = new DecodedPoints();
  p.when = when;
  p.metrics.push(...metrics);
  p.labels.push(...labels);
  p.ints.push(...ints);
  p.length = metrics.length;
  return p;
}

const text = (name: string): string => readCapture(name);
const registration = decodeRegistration(
  (parseJson(text('registered-metrics.wire.json')) as { result: { RegisteredMetrics: unknown } }).result
    .RegisteredMetrics,
);
const captured = ['export-metrics.wire.json', 'export-metrics-created-sandbox.wire.json'].flatMap(
  (name) => decodeExportResult((parseJson(text(name)) as { result: unknown }).result).snapshot.data,
);

/** Series of the real captures, plus lies: a wrong help, an unknown metric, a value not allowed, a missing label. */
function seriesPool(): { metric: Metric; labels: Labels }[] {
  const seen = new Map<string, { metric: Metric; labels: Labels }>();
  for (const d of captured)
    seen.set(`${d.metric.name} ${JSON.stringify(d.labels)}`, {
      metric: Object.freeze({ ...d.metric }),
      labels: Object.freeze({ ...d.labels }),
    });
  const pool = [...seen.values()];
  const labelled = pool.find((s) => Object.keys(s.labels).length === 1)!;
  const key = Object.keys(labelled.labels)[0]!;
  pool.push({
    metric: Object.freeze({ ...pool[0]!.metric, help: 'not the registered help' }),
    labels: pool[0]!.labels,
  });
  pool.push({ metric: Object.freeze({ name: 'made_up_metric', type: 2, help: '' }), labels: Object.freeze({}) });
  pool.push({ metric: labelled.metric, labels: Object.freeze({ [key]: 'not-allowed' }) });
  pool.push({ metric: labelled.metric, labels: Object.freeze({}) });
  return pool;
}

const verdict = (r: VerifyResult): string => (r.ok ? 'ok' : `${r.reason.code}: ${r.reason.message}`);

describe('Verifier on CanonicalSnapshot', () => {
  it('gives the verdicts of its plain data, 300 sandboxes x 20 snapshots', () => {
    const pool = seriesPool();
    const honest = pool.length - 4;
    const codes = new Map<string, number>();
    for (let seed = 1; seed <= 300; seed++) {
      const r = rng(seed);
      const onColumns = new Verifier(registration);
      const onData = new Verifier(registration);
      const values = new Map<number, number>();
      let seconds = 1_800_000_000;
      for (let step = 0; step < 20; step++) {
        seconds += r() < 0.05 ? -2 : 1;
        const when: Timestamp = { seconds, nanos: Math.floor(r() * 1e9) };
        const picks: number[] = [];
        for (let i = 0; i < honest; i++) if (r() < 0.7) picks.push(i);
        if (r() < 0.1) picks.push(honest + Math.floor(r() * 4)); // a lie
        if (r() < 0.05 && picks.length > 0) picks.push(picks[0]!); // a series twice
        const ints = picks.map((p) => {
          const last = values.get(p) ?? 0;
          const next = r() < 0.03 ? last - 1 : last + (r() < 0.5 ? 0 : Math.floor(r() * 1e12));
          values.set(p, next);
          return next;
        });
        const snapshot = columns(
          when,
          picks.map((p) => pool[p]!.metric),
          picks.map((p) => pool[p]!.labels),
          ints,
        );
        const asData: Snapshot = snapshot.toSnapshot();
        const now: Timestamp = { seconds: seconds + 1, nanos: 0 };
        const a = verdict(onColumns.verify(snapshot, now));
        const b = verdict(onData.verify(pointsOf(asData), now));
        if (a !== b) expect({ seed, step, verdict: a }).toEqual({ seed, step, verdict: b });
        const c = a.split(':')[0]!;
        codes.set(c, (codes.get(c) ?? 0) + 1);
      }
    }
    // Not vacuous: accepted snapshots and each kind of rejection the generator aims at.
    for (const c of [
      'ok',
      'counter-decreased',
      'duplicate-series',
      'bad-definition',
      'unknown-metric',
      'value-not-allowed',
      'time-went-back',
    ]) {
      expect(codes.get(c) ?? 0, `${c} in ${JSON.stringify([...codes])}`).toBeGreaterThan(5);
    }
  });

  // Points are read only up to their length (a column may hold more from an earlier decode).
  it('reads points up to their length', () => {
    const pool = seriesPool();
    const honest = pool.slice(0, 3);
    const lie = pool[pool.length - 3]!; // an unknown metric past the snapshot's length
    const when: Timestamp = { seconds: 1_800_000_000, nanos: 0 };
    const now: Timestamp = { seconds: 1_800_000_001, nanos: 0 };
    const metrics = [...honest.map((s) => s.metric), lie.metric];
    const labels = [...honest.map((s) => s.labels), lie.labels];
    const short = columns(when, metrics, labels, [1, 2, 3, 4]);
    short.length = 3;
    expect(verdict(new Verifier(registration).verify(short, now))).toBe('ok');
    const whole = columns(when, metrics, labels, [1, 2, 3, 4]);
    expect(verdict(new Verifier(registration).verify(whole, now))).toMatch(/^unknown-metric/);
  });
});

// A snapshot the registration's own decoder made skips the checks its construction
// guarantees (Verifier.checkDecoded): over replies with series twice, decreasing counters
// and clocks going back, its verdicts and memos must stay those of its plain data.
describe('Verifier on snapshots its registration decoder made', () => {
  /** Canonical point texts of every series the decoder knows: counters and gauges with at most one field. */
  function seriesTexts(): { text: string; counter: boolean }[] {
    const out: { text: string; counter: boolean }[] = [];
    for (const rule of rulesFor(registration).values()) {
      if (rule.kind === 'histogram' || rule.fields.length > 1) continue;
      const head = `{"metric":{"name":${goJsonString(rule.name)},"type":${rule.type},"help":${goJsonString(rule.help)}}`;
      const field = rule.fields[0];
      const values = field === undefined ? [undefined] : [...field.allowed.keys()].slice(0, 3);
      for (const v of values) {
        const labels = field === undefined ? '' : `,"labels":{${goJsonString(field.name)}:${goJsonString(v!)}}`;
        out.push({ text: head + labels, counter: rule.kind === 'counter' });
      }
    }
    return out;
  }

  const rfc3339 = (t: Timestamp): string =>
    `${new Date(t.seconds * 1000).toISOString().slice(0, 19)}.${String(t.nanos).padStart(9, '0')}Z`;

  it('gives the verdicts of their plain data, 200 sandboxes x 20 replies', () => {
    const decoder = snapshotDecoderFor(registration);
    const into = new DecodedPoints(); // reused reply after reply, as the server does
    const series = seriesTexts();
    expect(series.length).toBeGreaterThan(50);
    const codes = new Map<string, number>();
    for (let seed = 1; seed <= 200; seed++) {
      const r = rng(seed);
      const decoded = new Verifier(registration);
      const onData = new Verifier(registration);
      const values = new Map<number, number>();
      let seconds = 1_800_000_000;
      for (let step = 0; step < 20; step++) {
        seconds += r() < 0.05 ? -2 : 1;
        const when: Timestamp = { seconds, nanos: 1 + Math.floor(r() * 999_999_998) };
        const picks: number[] = [];
        for (let i = 0; i < series.length; i++) if (r() < 0.5) picks.push(i);
        if (r() < 0.1 && picks.length > 0)
          picks.splice(Math.floor(r() * picks.length), 0, picks[Math.floor(r() * picks.length)]!); // a series twice
        const points = picks.map((p) => {
          const last = values.get(p) ?? 0;
          const next =
            series[p]!.counter && r() < 0.02 && last > 0 ? last - 1 : last + (r() < 0.5 ? 0 : Math.floor(r() * 1e9));
          values.set(p, next);
          return `${series[p]!.text},"val":${next === 0 ? '{}' : `{"int":${next}}`}}`;
        });
        const reply = Buffer.from(
          `{"success":true,"err":"","result":{"snapshot":{"when":"${rfc3339(when)}","data":[${points.join(',')}]}}}`,
        );
        const snapshot = decoder.decodeReply(reply, reply.length, into);
        if (snapshot === undefined) throw new Error(`seed ${seed} step ${step}: the generated reply is not canonical`);
        const now: Timestamp = { seconds: seconds + 1, nanos: 0 };
        const asData: Snapshot = snapshot.toSnapshot();
        const a = verdict(decoded.verify(snapshot, now));
        const b = verdict(onData.verify(pointsOf(asData), now));
        if (a !== b) expect({ seed, step, verdict: a }).toEqual({ seed, step, verdict: b });
        const c = a.split(':')[0]!;
        codes.set(c, (codes.get(c) ?? 0) + 1);
      }
    }
    for (const c of ['ok', 'counter-decreased', 'duplicate-series', 'time-went-back']) {
      expect(codes.get(c) ?? 0, `${c} in ${JSON.stringify([...codes])}`).toBeGreaterThan(5);
    }
  });
});
