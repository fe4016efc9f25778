// One sandbox's metrics: which series exist, how counters grow, and the
// Metrics.Export reply encoded the way Go's encoding/json writes it.
import type { RE2JS } from 're2js';
import { formatRfc3339Nano } from '../wire/clock.js';
import { goJson } from '../wire/go-json.js';
import { Prng } from '../wire/prng.js';
import { filterMatches } from './filter.js';
import { type LieName, TIMESTAMP_SKEW_NS } from './lies.js';
import type { WireRegistration } from './registration.js';
import { FAKE_DISTRIBUTION } from './registration.js';

interface Series {
  readonly name: string;
  /** Pre-encoded `{"metric":{...}[,"labels":{...}],"val":` so an export only appends numbers. */
  readonly prefix: string;
  readonly help: string;
  readonly gauge: boolean;
  readonly base: number;
  readonly ratePerSec: number;
  /** A counter is 0 (and so omitted) until this many seconds after start. */
  readonly startAfterSec: number;
}

/**
 * Every series of a fake sandbox exists this many seconds after the sandbox starts: some
 * counters start late, as in a sandbox warming up, so a fleet's expositions grow over its
 * first minute (a memory soak must let this pass before judging growth).
 */
export const SERIES_RAMP_SECONDS = 60;

const REPLY_HEAD = '{"success":true,"err":"","result":{"snapshot":{"when":"';
const REPLY_TAIL = '}}}';

const numberJson = (v: number): string => (v === 0 ? '{}' : `{"int":${v}}`);
const metricJson = (name: string, type: number, help: string): string =>
  `{"name":${goJson(name)},"type":${type},"help":${goJson(help)}}`;

export class MetricSource {
  private readonly series: Series[] = [];
  private readonly startNs: bigint;
  /** Export counter; owned by the sandbox's urpc server (exports run synchronously). */
  private exports = 0;
  private readonly masks = new WeakMap<RE2JS, Uint8Array>();
  /** The one counter series the per-series lies rewrite; present from the start. */
  private readonly victim: number;
  /**
   * Series indexes per metric, in registration order. runsc walks a Go map of metrics and,
   * for a metric with a field, a Go map of its values: a metric's entries come together,
   * but both orders are drawn afresh on every export (checked against real runsc in
   * test/real/runsc.test.ts). A fixed order would flatter any decoder that guesses it.
   */
  private readonly groups: number[][];
  private readonly seed: number;

  constructor(registration: WireRegistration, seed: number, startNs: bigint) {
    this.startNs = startNs;
    this.seed = seed;
    const prng = new Prng(seed);
    const plain = registration.metrics.filter((m) => m.cumulative && !m.fields && (m.type ?? 0) === 0);
    const gauges = registration.metrics.filter((m) => !m.cumulative && (m.type ?? 0) === 0 && !m.fields);
    const fielded = registration.metrics.filter((m) => m.cumulative && m.fields?.length === 1);
    // A realistic share of non-zero counters: between ~30 and all of them.
    const active = prng.shuffle([...plain]).slice(0, prng.int(Math.min(28, plain.length), plain.length));
    active.forEach((m, i) => {
      this.series.push({
        name: m.prometheus_name,
        prefix: `{"metric":${metricJson(m.prometheus_name, 2, m.description)},"val":`,
        help: m.description,
        gauge: false,
        base: prng.int(1, 5000),
        ratePerSec: prng.next() < 0.5 ? 0 : prng.next() * 50,
        startAfterSec: i < 28 || prng.next() < 0.7 ? 0 : prng.int(1, SERIES_RAMP_SECONDS / 2),
      });
    });
    for (const m of fielded) {
      const field = m.fields?.[0];
      if (!field) continue;
      const values = prng
        .shuffle([...field.allowed_values])
        .slice(0, prng.int(0, Math.min(4, field.allowed_values.length)));
      for (const v of values) {
        this.series.push({
          name: m.prometheus_name,
          prefix:
            `{"metric":${metricJson(m.prometheus_name, 2, m.description)}` +
            `,"labels":${goJson({ [field.field_name]: v })},"val":`,
          help: m.description,
          gauge: false,
          base: prng.int(1, 20),
          ratePerSec: prng.next() * 0.2,
          startAfterSec: prng.int(0, SERIES_RAMP_SECONDS),
        });
      }
    }
    for (const m of gauges) {
      this.series.push({
        name: m.prometheus_name,
        prefix: `{"metric":${metricJson(m.prometheus_name, 1, m.description)},"val":`,
        help: m.description,
        gauge: true,
        base: prng.next() < 0.5 ? 0 : prng.int(1, 8),
        ratePerSec: 0,
        startAfterSec: 0,
      });
    }
    const byName = new Map<string, number[]>();
    this.series.forEach((s, i) => {
      const group = byName.get(s.name);
      if (group === undefined) byName.set(s.name, [i]);
      else group.push(i);
    });
    this.groups = [...byName.values()];
    this.victim = this.series.findIndex((s) => !s.gauge && s.startAfterSec === 0 && !s.prefix.includes('"labels"'));
  }

  /**
   * The series in the order export number `n` sends them: metrics shuffled, and the values
   * of a metric with a field shuffled within it. Reproducible from the seed and `n`.
   */
  entryOrder(n: number): number[] {
    const prng = new Prng(exportSeed(this.seed, n));
    const order: number[] = [];
    for (const group of prng.shuffle([...this.groups])) {
      if (group.length === 1) order.push(group[0] as number);
      else order.push(...prng.shuffle([...group]));
    }
    return order;
  }

  /** Number of series with a non-zero value or a gauge at `nowNs` (before filtering). */
  sampleCount(nowNs: bigint): number {
    const el = this.elapsedSec(nowNs);
    return this.series.filter((s) => s.gauge || this.value(s, el) !== 0).length;
  }

  private elapsedSec(nowNs: bigint): number {
    return Number(nowNs - this.startNs) / 1e9;
  }

  private value(s: Series, elapsedSec: number): number {
    if (s.gauge) return s.base;
    if (elapsedSec < s.startAfterSec) return 0;
    return s.base + Math.floor(s.ratePerSec * (elapsedSec - s.startAfterSec));
  }

  private mask(re: RE2JS): Uint8Array {
    let m = this.masks.get(re);
    if (!m) {
      m = new Uint8Array(this.series.length);
      for (let i = 0; i < this.series.length; i++) m[i] = filterMatches(re, (this.series[i] as Series).name) ? 1 : 0;
      this.masks.set(re, m);
    }
    return m;
  }

  /**
   * The full urpc reply to Metrics.Export. Hot path (once per sandbox per
   * scrape): one array of pre-encoded parts joined once.
   */
  exportReply(re: RE2JS | null, nowNs: bigint, lie: LieName | null, otherSandboxId: string): string {
    this.exports++;
    const el = this.elapsedSec(nowNs);
    const mask = re && lie !== 'ignore-filter' ? this.mask(re) : null;
    const parts: string[] = [];
    for (const i of this.entryOrder(this.exports)) {
      if (mask && mask[i] === 0) continue;
      const s = this.series[i] as Series;
      const v = this.value(s, el);
      if (v === 0 && !s.gauge) continue; // runsc omits zero counters
      if (lie && i === this.victim && this.rewriteVictim(lie, s, v, parts, otherSandboxId)) continue;
      parts.push(`${s.prefix}${numberJson(v)}}`);
    }
    if (lie) this.addLieEntries(lie, parts, re);
    let when = nowNs;
    if (lie === 'timestamp-old') when -= TIMESTAMP_SKEW_NS;
    if (lie === 'timestamp-future') when += TIMESTAMP_SKEW_NS;
    const head = `${REPLY_HEAD}${formatRfc3339Nano(when)}"`;
    return parts.length === 0 ? `${head}${REPLY_TAIL}` : `${head},"data":[${parts.join(',')}]${REPLY_TAIL}`;
  }

  /** Lies that change one honest counter series; true when it replaced the honest entry. */
  private rewriteVictim(lie: LieName, s: Series, v: number, parts: string[], other: string): boolean {
    const metric = (type: number): string => metricJson(s.name, type, s.help);
    switch (lie) {
      case 'wrong-type':
        parts.push(`{"metric":${metric(1)},"val":${numberJson(v)}}`);
        return true;
      case 'unregistered-label':
        parts.push(`{"metric":${metric(2)},"labels":{"bogus_field":"x"},"val":${numberJson(v)}}`);
        return true;
      case 'duplicate-series':
        parts.push(`${s.prefix}${numberJson(v)}}`, `${s.prefix}${numberJson(v + 1)}}`);
        return true;
      case 'counter-decrease':
        parts.push(`${s.prefix}${numberJson(Math.max(1, 1_000_000 - this.exports))}}`);
        return true;
      case 'int-float-switch':
        parts.push(this.exports % 2 === 1 ? `${s.prefix}{"int":${v}}}` : `${s.prefix}{"float":${v + 0.5}}}`);
        return true;
      case 'nan-counter':
        parts.push(`${s.prefix}{"float":"NaN"}}`);
        return true;
      case 'inf-counter':
        parts.push(`${s.prefix}{"float":"+Inf"}}`);
        return true;
      case 'claim-labels':
        parts.push(
          `{"metric":${metric(2)},"labels":${goJson({ sandbox: other, iteration: 'claimed0iter' })}` +
            `,"val":${numberJson(v)}}`,
        );
        return true;
      case 'claim-external-labels':
        parts.push(
          `{"metric":${metric(2)},"external_labels":${goJson({ sandbox: other, iteration: 'claimed0iter' })}` +
            `,"val":${numberJson(v)}}`,
        );
        return true;
      default:
        return false;
    }
  }

  private addLieEntries(lie: LieName, parts: string[], re: RE2JS | null): void {
    const add = (name: string, entry: string): void => {
      if (filterMatches(lie === 'ignore-filter' ? null : re, name)) parts.push(entry);
    };
    switch (lie) {
      case 'unregistered-metric':
        add(
          'fake_unregistered_total',
          `{"metric":${metricJson('fake_unregistered_total', 2, 'Not in the registration.')},"val":{"int":1}}`,
        );
        break;
      case 'unregistered-label-value':
        add(
          'weirdness',
          `{"metric":${metricJson('weirdness', 2, WEIRDNESS_HELP)},"labels":{"weirdness_type":"not_an_allowed_value"}` +
            `,"val":{"int":1}}`,
        );
        break;
      case 'label-escape':
        add(
          'weirdness',
          `{"metric":${metricJson('weirdness', 2, WEIRDNESS_HELP)}` +
            `,"labels":${goJson({ weirdness_type: 'a"b\nc}{#d\\' })},"val":{"int":1}}`,
        );
        break;
      case 'meta-imitation':
        add(
          'meta_sandbox_presence',
          `{"metric":${metricJson('meta_sandbox_presence', 1, 'Imitates the server meta-metric.')},"val":{"int":1}}`,
        );
        add(
          'process_start_time_seconds',
          `{"metric":${metricJson('process_start_time_seconds', 1, 'Imitates the process collector.')}` +
            `,"val":{"float":1.5}}`,
        );
        break;
      case 'histogram-mismatch':
        // Registered with 5 lower bounds (6 finite buckets + overflow = 7); we send 3.
        add(
          FAKE_DISTRIBUTION.prometheus_name,
          `{"metric":${metricJson(FAKE_DISTRIBUTION.prometheus_name, 3, FAKE_DISTRIBUTION.description)}` +
            `,"histogram":{"total":{"int":6},"min":{"int":1},"max":{"int":4},"ssd":{"float":4.5}` +
            `,"buckets":[{"le":{"int":0}},{"le":{"int":1},"n":2},{"le":{"int":2},"n":1}]}}`,
        );
        break;
      default:
        break;
    }
  }
}

/** The PRNG seed of export `n` of a sandbox seeded `seed` (golden-ratio step, so consecutive exports differ). */
function exportSeed(seed: number, n: number): number {
  return (seed ^ Math.imul(n, 0x9e3779b1)) >>> 0;
}

const WEIRDNESS_HELP =
  'Increment for weird occurrences of problems such as time fallback, partial result, vsyscalls invoked in the ' +
  'sandbox, watchdog startup timeouts and stuck tasks.';
