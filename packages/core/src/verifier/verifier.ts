// Checks each snapshot an untrusted sandbox exports against the registration
// captured at sandbox creation and against the last accepted snapshot
// (prometheus.md §5.2, rules in order). One Verifier per sandbox; its state is
// owned by the caller's per-sandbox export queue (verify() itself is synchronous).
import {
  compareTimestamps,
  formatGoTime,
  int64Equal,
  isInteger,
  sameType,
  type Data,
  type Histogram,
  type MetricRegistration,
  type Snapshot,
  type Timestamp,
  type WireNumber,
} from '@org/metricserver-prom-format';
import { VerifyRejection, type VerifyRejectionCode, type VerifyResult } from './errors.js';
import { formatNumber, isModelUint64, isTimestamp, numberProblem, numericValue } from './number.js';
import { rulesFor, type MetricRule } from './rules.js';

/**
 * One sandbox's mutable state for one metric, made on the metric's first point
 * (most registered metrics never appear) and its maps on first use.
 */
interface RuleState {
  // Duplicate-series detection within one verify() call, reset lazily by epoch
  // (owned by Verifier.verify, which is synchronous).
  seenEpoch: number;
  seenKeys: Set<string> | null;
  // Last accepted values per series key, written only by Verifier's commit step.
  lastCounter: Map<string, WireNumber> | null;
  lastHistogram: Map<string, Histogram> | null;
}

/** Maximum age of an accepted snapshot relative to `now` (exactly this old is still accepted). */
export const MAX_SNAPSHOT_AGE_SECONDS = 10;

const OK: VerifyResult = Object.freeze({ ok: true as const });

export class Verifier {
  /** Shared with every Verifier of the same registration object: read only. */
  private readonly rules: ReadonlyMap<string, MetricRule>;
  /** This sandbox's state per rule index (sparse until a metric's first point). */
  private readonly states: (RuleState | undefined)[] = [];
  /** `When` of the last accepted snapshot; undefined until one is accepted. */
  private lastWhen: Timestamp | undefined;
  private epoch = 0;
  // Per-point scratch of the current verify() call, reused across calls so
  // the hot path allocates nothing per point (index = position in snapshot.data).
  private readonly pointRules: MetricRule[] = [];
  private readonly pointKeys: string[] = [];

  /** Throws RegistrationError when the registration is not acceptable (§5.1). */
  constructor(registration: MetricRegistration) {
    this.rules = rulesFor(registration);
  }

  /** Number of registered metrics (for logs). */
  get metricCount(): number {
    return this.rules.size;
  }

  /**
   * Verifies `snapshot` taken against the server clock `now`. On success the
   * snapshot becomes the new reference for monotonicity; on rejection nothing
   * changes. Hot path (~170 points x every sandbox x every scrape).
   */
  verify(snapshot: Snapshot, now: Timestamp): VerifyResult {
    if (typeof snapshot !== 'object' || snapshot === null) {
      return reject('malformed-snapshot', 'sandbox returned no snapshot (null)');
    }
    const when = snapshot.when;
    if (!isTimestamp(when)) return reject('malformed-snapshot', 'snapshot has no valid timestamp');

    // 1-2: age against the server clock.
    if (compareTimestamps(when, now) > 0) {
      return reject('future', `snapshot is from the future: it is from ${formatGoTime(when)}, the server clock reads ${formatGoTime(now)}; check the sandbox and host clocks`);
    }
    const oldest: Timestamp = { seconds: now.seconds - MAX_SNAPSHOT_AGE_SECONDS, nanos: now.nanos };
    if (compareTimestamps(when, oldest) < 0) {
      return reject('too-old', `snapshot is too old; it is from ${formatGoTime(when)}, expected at least ${formatGoTime(oldest)} (${MAX_SNAPSHOT_AGE_SECONDS}s from now)`);
    }

    const data: readonly Data[] | null | undefined = snapshot.data;
    if (data != null && !Array.isArray(data)) return reject('malformed-snapshot', 'snapshot data is not a list');
    const n = data == null ? 0 : data.length;
    const epoch = ++this.epoch;
    this.pointRules.length = 0;
    this.pointKeys.length = 0;

    // 3: every point against its registration.
    for (let i = 0; i < n; i++) {
      const r = this.checkPoint(data![i]!, i, epoch);
      if (r !== null) return { ok: false, reason: r };
    }

    // 4: never backwards relative to the last accepted snapshot.
    if (this.lastWhen !== undefined && compareTimestamps(this.lastWhen, when) > 0) {
      return reject('time-went-back', `consecutive snapshots are not chronologically ordered: last verified snapshot was exported at ${formatGoTime(this.lastWhen)}, this one is from ${formatGoTime(when)}`);
    }

    // 5: monotonicity against the remembered values.
    for (let i = 0; i < n; i++) {
      const rule = this.pointRules[i]!;
      if (rule.kind === 'gauge') continue;
      const st = this.states[rule.index]!;
      const r = rule.kind === 'counter'
        ? checkCounter(rule, st, this.pointKeys[i]!, data![i]!.number!)
        : checkHistogram(rule, st, this.pointKeys[i]!, data![i]!.histogramValue!);
      if (r !== null) return { ok: false, reason: r };
    }

    // Accept: only now is any state written.
    this.lastWhen = when;
    for (let i = 0; i < n; i++) {
      const rule = this.pointRules[i]!;
      const st = this.states[rule.index]!;
      if (rule.kind === 'counter') (st.lastCounter ??= new Map()).set(this.pointKeys[i]!, data![i]!.number!);
      else if (rule.kind === 'histogram') (st.lastHistogram ??= new Map()).set(this.pointKeys[i]!, data![i]!.histogramValue!);
    }
    return OK;
  }

  /** Step 3 for one point; records its rule and series key in the scratch arrays. */
  private checkPoint(d: Data, i: number, epoch: number): VerifyRejection | null {
    if (typeof d !== 'object' || d === null) return new VerifyRejection('malformed-snapshot', `data point ${i} is null`);
    const metric = d.metric;
    if (typeof metric !== 'object' || metric === null) {
      return new VerifyRejection('malformed-snapshot', `data point ${i} has no metric`);
    }
    const rule = typeof metric.name === 'string' ? this.rules.get(metric.name) : undefined;
    if (rule === undefined) {
      return new VerifyRejection('unknown-metric', `snapshot contains unknown metric ${JSON.stringify(metric.name)}`, String(metric.name));
    }
    if (metric.type !== rule.type || metric.help !== rule.help) {
      return pointFailure(rule, 'bad-definition', `invalid metric definition: got ${describeMetric(metric.name, metric.type, metric.help)} want ${describeMetric(rule.name, rule.type, rule.help)}`);
    }

    // Fields: exact label set, allowed values, series key.
    const labels = d.labels ?? EMPTY_LABELS;
    if (typeof labels !== 'object') return pointFailure(rule, 'malformed-snapshot', 'labels are not an object');
    let labelCount = 0;
    for (const _ in labels) labelCount++;
    const fields = rule.fields;
    if (labelCount !== fields.length) return pointFailure(rule, 'field-count', `invalid number of fields: got ${labelCount} want ${fields.length}`);
    let key = '';
    for (let f = 0; f < fields.length; f++) {
      const field = fields[f]!;
      const value = Object.prototype.hasOwnProperty.call(labels, field.name) ? labels[field.name] : undefined;
      if (typeof value !== 'string') return pointFailure(rule, 'missing-field', `did not specify field ${JSON.stringify(field.name)}`);
      const index = field.allowed.get(value);
      if (index === undefined) return pointFailure(rule, 'value-not-allowed', `value ${JSON.stringify(value)} is not allowed for field ${field.name}`);
      // One field (the only case runsc registers): the value itself. Several:
      // allowed-value indices, which cannot collide the way comma-joined values do.
      if (fields.length === 1) key = value;
      else key = f === 0 ? String(index) : `${key},${index}`;
    }
    const st = (this.states[rule.index] ??= { seenEpoch: 0, seenKeys: null, lastCounter: null, lastHistogram: null });
    if (st.seenEpoch !== epoch) {
      st.seenEpoch = epoch;
      st.seenKeys?.clear();
    } else if (fields.length === 0 || st.seenKeys?.has(key) === true) {
      const shown = fields.map((f) => labels[f.name]).join(',');
      return pointFailure(rule, 'duplicate-series', `combination of field values ${JSON.stringify(shown)} was already seen`);
    }
    if (fields.length > 0) (st.seenKeys ??= new Set()).add(key);

    // Value: exactly one of number / histogram, well-formed, of the registered kind.
    const num = d.number ?? undefined;
    const hist = d.histogramValue ?? undefined;
    const count = (num !== undefined ? 1 : 0) + (hist !== undefined ? 1 : 0);
    if (count !== 1) return pointFailure(rule, 'value-count', `invalid number of value fields specified: ${count}`);
    if (rule.kind !== 'histogram') {
      if (num === undefined) return pointFailure(rule, 'not-number', 'expected number value for gauge or counter');
      const p = numberProblem(num);
      if (p !== null) return pointFailure(rule, 'malformed-number', `value: ${p}`);
      if (!isInteger(num)) return pointFailure(rule, 'not-integer', `integer metric got non-integer value: ${formatNumber(num)}`);
    } else {
      if (hist === undefined) return pointFailure(rule, 'not-histogram', 'expected histogram value for histogram');
      const p = histogramProblem(hist);
      if (p !== null) return pointFailure(rule, 'malformed-number', p);
      const want = rule.bucketBounds;
      if (hist.buckets.length !== want.length) {
        return pointFailure(rule, 'bucket-count', `invalid number of buckets: got ${hist.buckets.length} want ${want.length}`);
      }
      const ssd = hist.sumOfSquaredDeviations;
      if (ssd.float === 0 && !int64Equal(ssd.int, 0)) {
        return pointFailure(rule, 'ssd-not-float', `sum of squared deviations must be a floating-point value, got integer ${formatNumber(ssd)}`);
      }
      for (let b = 0; b < want.length; b++) {
        const got = hist.buckets[b]!.upperBound;
        const exp = want[b]!;
        if (got.float !== exp.float || !int64Equal(got.int, exp.int)) {
          return pointFailure(rule, 'bucket-bound', `invalid upper bound for bucket ${b} (0-based): got ${formatNumber(got)} want ${formatNumber(exp)}`);
        }
      }
    }
    this.pointRules.push(rule);
    this.pointKeys.push(key);
    return null;
  }
}

const EMPTY_LABELS: Readonly<Record<string, string>> = Object.freeze({});

/** A rejection about one data point; built only on failure (no per-point closure). */
function pointFailure(rule: MetricRule, code: VerifyRejectionCode, detail: string): VerifyRejection {
  return new VerifyRejection(code, `metric ${JSON.stringify(rule.name)}: ${detail}`, rule.name);
}

function reject(code: VerifyRejectionCode, message: string): VerifyResult {
  return { ok: false, reason: new VerifyRejection(code, message) };
}

function describeMetric(name: unknown, type: unknown, help: unknown): string {
  return `{name:${JSON.stringify(name)} type:${String(type)} help:${JSON.stringify(help)}}`;
}

function histogramProblem(h: Histogram): string | null {
  if (typeof h !== 'object' || h === null) return 'histogram is not an object';
  for (const [label, n] of [
    ['total', h.total],
    ['min', h.min],
    ['max', h.max],
    ['sum of squared deviations', h.sumOfSquaredDeviations],
  ] as const) {
    const p = numberProblem(n);
    if (p !== null) return `histogram ${label}: ${p}`;
  }
  if (!Array.isArray(h.buckets)) return 'histogram buckets are not a list';
  for (let b = 0; b < h.buckets.length; b++) {
    const bucket = h.buckets[b];
    if (typeof bucket !== 'object' || bucket === null) return `histogram bucket ${b} is null`;
    const p = numberProblem(bucket.upperBound);
    if (p !== null) return `histogram bucket ${b} upper bound: ${p}`;
    if (!isModelUint64(bucket.samples)) return `histogram bucket ${b} sample count is not an unsigned 64-bit integer`;
  }
  return null;
}

const ZERO: WireNumber = Object.freeze({ int: 0, float: 0 });

/** Counters never switch int/float and never decrease (numerically, unlike Go which misses integral floats). */
function checkCounter(rule: MetricRule, st: RuleState, key: string, value: WireNumber): VerifyRejection | null {
  const last = st.lastCounter?.get(key) ?? ZERO;
  if (!sameType(last, value)) {
    return pointFailure(rule, 'counter-type-changed', `counter number type changed: ${formatNumber(last)} vs ${formatNumber(value)}`);
  }
  if (numericValue(last) > numericValue(value)) {
    return pointFailure(rule, 'counter-decreased', `counter value decreased from ${formatNumber(last)} to ${formatNumber(value)}`);
  }
  return null;
}

/** 0, 1 or 2: the previous point's total sample count, capped (only >= 1 and >= 2 matter). */
function samplesAtLeast(h: Histogram): number {
  let c = 0;
  for (const b of h.buckets) {
    const s = b.samples;
    if (s > 1) return 2;
    if (s > 0) c++;
    if (c >= 2) return 2;
  }
  return c;
}

function checkHistogram(rule: MetricRule, st: RuleState, key: string, h: Histogram): VerifyRejection | null {
  const last = st.lastHistogram?.get(key);
  if (last === undefined) return null; // initial state: all counts zero, nothing to compare
  const lastCount = samplesAtLeast(last);
  if (lastCount >= 1) {
    if (!sameType(last.min, h.min)) return pointFailure(rule, 'histogram-min-type-changed', `minimum value type changed: ${formatNumber(last.min)} vs ${formatNumber(h.min)}`);
    if (numericValue(h.min) > numericValue(last.min)) {
      return pointFailure(rule, 'histogram-min-increased', `minimum value strictly increased from ${formatNumber(last.min)} to ${formatNumber(h.min)}`);
    }
    if (!sameType(last.max, h.max)) return pointFailure(rule, 'histogram-max-type-changed', `maximum value type changed: ${formatNumber(last.max)} vs ${formatNumber(h.max)}`);
    if (numericValue(h.max) < numericValue(last.max)) {
      return pointFailure(rule, 'histogram-max-decreased', `maximum value strictly decreased from ${formatNumber(last.max)} to ${formatNumber(h.max)}`);
    }
  }
  if (lastCount >= 2 && h.sumOfSquaredDeviations.float < last.sumOfSquaredDeviations.float) {
    return pointFailure(rule, 'histogram-ssd-decreased', `sum of squared deviations decreased from ${formatNumber(last.sumOfSquaredDeviations)} to ${formatNumber(h.sumOfSquaredDeviations)}`);
  }
  for (let b = 0; b < h.buckets.length; b++) {
    const was = last.buckets[b]!.samples;
    const now = h.buckets[b]!.samples;
    if (was > now) return pointFailure(rule, 'histogram-bucket-decreased', `number of samples in bucket ${b} (0-based) decreased from ${String(was)} to ${String(now)}`);
  }
  return null;
}
