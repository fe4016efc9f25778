// Checks each snapshot an untrusted sandbox exports against the registration
// captured at sandbox creation and against the last accepted snapshot
// (prometheus.md §5.2, rules in order). One Verifier per sandbox; its state is
// owned by the caller's per-sandbox export queue (verify() itself is synchronous).
import {
  compareTimestamps,
  type Data,
  formatGoTime,
  type Histogram,
  type Int64,
  int64Equal,
  isInteger,
  type Labels,
  type MetricRegistration,
  NO_LABELS,
  type SnapshotPoints,
  sameType,
  type Timestamp,
  type WireNumber,
} from '@org/metricserver-prom-format';
import { type DecodedMetric, decoderBuiltFor } from './decoder.js';
import { VerifyRejection, type VerifyRejectionCode, type VerifyResult } from './errors.js';
import { formatNumber, isModelUint64, isTimestamp, numberProblem, numericValue } from './number.js';
import { type FieldRule, type MetricRule, rulesFor } from './rules.js';

/**
 * The last accepted value of one counter series, compact: a JS number when the value
 * is int-typed and safe (nearly always), else the wire Number itself.
 */
type CounterMemo = number | WireNumber;

/**
 * The last accepted state of one histogram series: only what the monotonicity rules
 * read, so the decoded snapshot is not kept. Updated in place on every accept.
 */
interface HistogramMemo {
  min: WireNumber;
  max: WireNumber;
  ssd: number;
  /** 0, 1 or 2: total samples, capped (only >= 1 and >= 2 matter). */
  atLeast: number;
  readonly samples: Int64[];
}

/** Per rule index: the memo itself when the metric has no fields, else a map by series key. */
type Memo = CounterMemo | HistogramMemo | Map<string, CounterMemo | HistogramMemo>;

// Per-point scratch of the verify() call running now, shared by every Verifier (verify()
// is synchronous): the hot path allocates nothing per point and no sandbox keeps it.
const pointRules: MetricRule[] = [];
const pointKeys: string[] = [];
/** Per point: the memo step 5 looked up, reused by the accept step (one lookup per point). */
const pointMemos: (CounterMemo | HistogramMemo | undefined)[] = [];
/** Stamp of the verify() call running now, for the rules' duplicate-series scratch. */
let callStamp = 0;

/** Maximum age of an accepted snapshot relative to `now` (exactly this old is still accepted). */
export const MAX_SNAPSHOT_AGE_SECONDS = 10;

const OK: VerifyResult = Object.freeze({ ok: true as const });

export class Verifier {
  /** Shared with every Verifier of the same registration object: read only. */
  private readonly rules: ReadonlyMap<string, MetricRule>;
  /**
   * This sandbox's last accepted counter and histogram values by rule index (undefined
   * until the metric's first accepted point). Written only by verify()'s accept step.
   */
  private readonly memos: (Memo | undefined)[] = [];
  /** `When` of the last accepted snapshot; undefined until one is accepted. */
  private lastWhen: Timestamp | undefined;

  /** Throws RegistrationError when the registration is not acceptable (§5.1). */
  constructor(registration: MetricRegistration) {
    this.rules = rulesFor(registration);
  }

  /** Number of registered metrics (for logs). */
  get metricCount(): number {
    return this.rules.size;
  }

  /**
   * Verifies the points of a snapshot taken against the server clock `now`. On success
   * they become the new reference for monotonicity; on rejection nothing changes. Reads
   * each point through pointAt and keeps only values (a reader may reuse one object).
   * Hot path (~170 points x every sandbox x every scrape).
   */
  verify(points: SnapshotPoints, now: Timestamp): VerifyResult {
    if (typeof points !== 'object' || points === null) {
      return reject('malformed-snapshot', 'sandbox returned no snapshot (null)');
    }
    const when = points.when;
    if (!isTimestamp(when)) return reject('malformed-snapshot', 'snapshot has no valid timestamp');

    // 1-2: age against the server clock.
    if (compareTimestamps(when, now) > 0) {
      return reject(
        'future',
        `snapshot is from the future: it is from ${formatGoTime(when)}, the server clock reads ` +
          `${formatGoTime(now)}; check the sandbox and host clocks`,
      );
    }
    const oldest: Timestamp = { seconds: now.seconds - MAX_SNAPSHOT_AGE_SECONDS, nanos: now.nanos };
    if (compareTimestamps(when, oldest) < 0) {
      return reject(
        'too-old',
        `snapshot is too old; it is from ${formatGoTime(when)}, expected at least ${formatGoTime(oldest)} ` +
          `(${MAX_SNAPSHOT_AGE_SECONDS}s from now)`,
      );
    }

    const n = points.length;
    const stamp = ++callStamp;
    // 3: every point against its registration. Points this registration's own decoder
    // wrote pass everything but the duplicate check by construction (checkDecoded).
    const decoded = points.decoder !== undefined && points.decoder === decoderBuiltFor(this.rules);
    for (let i = 0; i < n; i++) {
      const d = points.pointAt(i);
      const r = decoded
        ? this.checkDecoded((d.metric as DecodedMetric).rule, d.labels, i, stamp)
        : this.checkPoint(d, i, stamp);
      if (r !== null) return { ok: false, reason: r };
    }

    // 4: never backwards relative to the last accepted snapshot.
    if (this.lastWhen !== undefined && compareTimestamps(this.lastWhen, when) > 0) {
      return reject(
        'time-went-back',
        `consecutive snapshots are not chronologically ordered: last verified snapshot was exported at ` +
          `${formatGoTime(this.lastWhen)}, this one is from ${formatGoTime(when)}`,
      );
    }

    // 5: monotonicity against the remembered values.
    for (let i = 0; i < n; i++) {
      const rule = pointRules[i]!;
      if (rule.kind === 'gauge') continue;
      const memo = this.memoOf(rule, pointKeys[i]!);
      pointMemos[i] = memo;
      const d = points.pointAt(i);
      const r =
        rule.kind === 'counter'
          ? checkCounter(rule, memo as CounterMemo | undefined, d.number!)
          : checkHistogram(rule, memo as HistogramMemo | undefined, d.histogramValue!);
      if (r !== null) return { ok: false, reason: r };
    }

    // Accept: only now is any state written.
    this.lastWhen = when;
    for (let i = 0; i < n; i++) {
      const rule = pointRules[i]!;
      if (rule.kind === 'gauge') continue;
      const key = pointKeys[i]!;
      const d = points.pointAt(i);
      const old = pointMemos[i];
      const next =
        rule.kind === 'counter'
          ? counterMemo(d.number!)
          : histogramMemo(d.histogramValue!, old as HistogramMemo | undefined);
      if (next === old) continue; // a histogram memo updated in place
      if (rule.fields.length === 0) this.memos[rule.index] = next;
      else {
        let byKey = this.memos[rule.index] as Map<string, CounterMemo | HistogramMemo> | undefined;
        if (byKey === undefined) {
          byKey = new Map();
          this.memos[rule.index] = byKey;
        }
        byKey.set(key, next);
      }
    }
    // Drop this snapshot's keys and memos but keep the arrays' capacity: `length = 0` would
    // free the backing stores and every call would grow them again (garbage per sandbox).
    pointKeys.fill('', 0, n);
    pointMemos.fill(undefined, 0, n);
    return OK;
  }

  private memoOf(rule: MetricRule, key: string): CounterMemo | HistogramMemo | undefined {
    const m = this.memos[rule.index];
    if (rule.fields.length === 0 || m === undefined) return m as CounterMemo | HistogramMemo | undefined;
    return (m as Map<string, CounterMemo | HistogramMemo>).get(key);
  }

  /**
   * checkPoint for a point of a snapshot that this verifier's own decoder made: its metric is
   * the rule's (name, type and help matched byte for byte), its labels are none or one allowed
   * value of the rule's only field, and its value a safe int. What is left is the duplicate
   * check (a test holds the verdicts to checkPoint's).
   */
  private checkDecoded(rule: MetricRule, labels: Labels, i: number, stamp: number): VerifyRejection | null {
    const field = rule.fields[0];
    const key = field === undefined ? '' : labels[field.name]!;
    const r = duplicateSeries(rule, labels, key, field === undefined ? 0 : field.allowed.get(key)!, stamp);
    if (r !== null) return r;
    pointRules[i] = rule;
    pointKeys[i] = key;
    return null;
  }

  /** Step 3 for one point; records its rule and series key in the scratch arrays. */
  private checkPoint(d: Data, i: number, stamp: number): VerifyRejection | null {
    if (typeof d !== 'object' || d === null)
      return new VerifyRejection('malformed-snapshot', `data point ${i} is null`);
    const metric = d.metric;
    if (typeof metric !== 'object' || metric === null) {
      return new VerifyRejection('malformed-snapshot', `data point ${i} has no metric`);
    }
    const rule = typeof metric.name === 'string' ? this.rules.get(metric.name) : undefined;
    if (rule === undefined) {
      return new VerifyRejection(
        'unknown-metric',
        `snapshot contains unknown metric ${JSON.stringify(metric.name)}`,
        String(metric.name),
      );
    }
    if (metric.type !== rule.type || metric.help !== rule.help) {
      return pointFailure(
        rule,
        'bad-definition',
        `invalid metric definition: got ${describeMetric(metric.name, metric.type, metric.help)} want ` +
          `${describeMetric(rule.name, rule.type, rule.help)}`,
      );
    }

    // Fields: exact label set, allowed values, series key.
    const labels = d.labels ?? NO_LABELS;
    if (typeof labels !== 'object') return pointFailure(rule, 'malformed-snapshot', 'labels are not an object');
    let labelCount = 0;
    for (const _ in labels) labelCount++;
    const fields = rule.fields;
    if (labelCount !== fields.length)
      return pointFailure(rule, 'field-count', `invalid number of fields: got ${labelCount} want ${fields.length}`);
    let key = '';
    let index = 0;
    for (let f = 0; f < fields.length; f++) {
      const field = fields[f]!;
      const value = Object.hasOwn(labels, field.name) ? labels[field.name] : undefined;
      if (typeof value !== 'string')
        return pointFailure(rule, 'missing-field', `did not specify field ${JSON.stringify(field.name)}`);
      const at = field.allowed.get(value);
      if (at === undefined)
        return pointFailure(
          rule,
          'value-not-allowed',
          `value ${JSON.stringify(value)} is not allowed for field ${field.name}`,
        );
      // One field (the only case runsc registers): the value itself. Several:
      // allowed-value indices, which cannot collide the way comma-joined values do.
      index = at;
      if (fields.length === 1) key = value;
      else key = f === 0 ? String(at) : `${key},${at}`;
    }
    const dup = duplicateSeries(rule, labels, key, index, stamp);
    if (dup !== null) return dup;

    // Value: exactly one of number / histogram, well-formed, of the registered kind.
    const num = d.number ?? undefined;
    const hist = d.histogramValue ?? undefined;
    const count = (num !== undefined ? 1 : 0) + (hist !== undefined ? 1 : 0);
    if (count !== 1) return pointFailure(rule, 'value-count', `invalid number of value fields specified: ${count}`);
    if (rule.kind !== 'histogram') {
      if (num === undefined) return pointFailure(rule, 'not-number', 'expected number value for gauge or counter');
      const p = numberProblem(num);
      if (p !== null) return pointFailure(rule, 'malformed-number', `value: ${p}`);
      if (!isInteger(num))
        return pointFailure(rule, 'not-integer', `integer metric got non-integer value: ${formatNumber(num)}`);
    } else {
      if (hist === undefined) return pointFailure(rule, 'not-histogram', 'expected histogram value for histogram');
      const p = histogramProblem(hist);
      if (p !== null) return pointFailure(rule, 'malformed-number', p);
      const want = rule.bucketBounds;
      if (hist.buckets.length !== want.length) {
        return pointFailure(
          rule,
          'bucket-count',
          `invalid number of buckets: got ${hist.buckets.length} want ${want.length}`,
        );
      }
      const ssd = hist.sumOfSquaredDeviations;
      if (ssd.float === 0 && !int64Equal(ssd.int, 0)) {
        return pointFailure(
          rule,
          'ssd-not-float',
          `sum of squared deviations must be a floating-point value, got integer ${formatNumber(ssd)}`,
        );
      }
      for (let b = 0; b < want.length; b++) {
        const got = hist.buckets[b]!.upperBound;
        const exp = want[b]!;
        if (got.float !== exp.float || !int64Equal(got.int, exp.int)) {
          return pointFailure(
            rule,
            'bucket-bound',
            `invalid upper bound for bucket ${b} (0-based): got ${formatNumber(got)} want ${formatNumber(exp)}`,
          );
        }
      }
    }
    pointRules[i] = rule;
    pointKeys[i] = key;
    return null;
  }
}

/**
 * The duplicate-series rule for one point of the verify() call stamped `stamp`, recording the
 * point's series: `key` is its series key, `index` its allowed-value index (one field only).
 */
function duplicateSeries(
  rule: MetricRule,
  labels: Labels,
  key: string,
  index: number,
  stamp: number,
): VerifyRejection | null {
  const fields = rule.fields;
  const seen = rule.seen;
  if (fields.length === 1) {
    // One field: a stamp per allowed value (no set to clear and refill per call).
    const byValue = seen.byValue!;
    if (byValue[index] === stamp) {
      return pointFailure(
        rule,
        'duplicate-series',
        `combination of field values ${JSON.stringify(key)} was already seen`,
      );
    }
    byValue[index] = stamp;
  } else if (seen.stamp !== stamp) {
    seen.stamp = stamp;
    seen.keys?.clear();
  } else if (fields.length === 0 || seen.keys?.has(key) === true) {
    return pointFailure(
      rule,
      'duplicate-series',
      `combination of field values ${JSON.stringify(fieldValues(fields, labels))} was already seen`,
    );
  }
  if (fields.length > 1) (seen.keys ??= new Set()).add(key);
  return null;
}

/**
 * The point's field values joined by commas, for a message. Out of checkPoint: a closure
 * there over `labels` would make V8 allocate a context for it on every call (~40 bytes per point).
 */
function fieldValues(fields: readonly FieldRule[], labels: Readonly<Record<string, string>>): string {
  return fields.map((f) => labels[f.name]).join(',');
}

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

/** Counters never switch int/float and never decrease (numerically, unlike Go which misses integral floats). */
function checkCounter(rule: MetricRule, memo: CounterMemo | undefined, value: WireNumber): VerifyRejection | null {
  if (typeof memo === 'number' || memo === undefined) {
    // An int-typed last value (float part 0): the same type unless `value` is a float with another int part.
    const last = memo ?? 0;
    if (!(value.float === 0 || int64Equal(last, value.int))) {
      return pointFailure(
        rule,
        'counter-type-changed',
        `counter number type changed: ${formatNumber({ int: last, float: 0 })} vs ${formatNumber(value)}`,
      );
    }
    if (last > numericValue(value)) {
      return pointFailure(
        rule,
        'counter-decreased',
        `counter value decreased from ${formatNumber({ int: last, float: 0 })} to ${formatNumber(value)}`,
      );
    }
    return null;
  }
  if (!sameType(memo, value)) {
    return pointFailure(
      rule,
      'counter-type-changed',
      `counter number type changed: ${formatNumber(memo)} vs ${formatNumber(value)}`,
    );
  }
  if (numericValue(memo) > numericValue(value)) {
    return pointFailure(
      rule,
      'counter-decreased',
      `counter value decreased from ${formatNumber(memo)} to ${formatNumber(value)}`,
    );
  }
  return null;
}

function counterMemo(n: WireNumber): CounterMemo {
  return n.float === 0 && typeof n.int === 'number' ? n.int : n;
}

/** 0, 1 or 2: the total sample count, capped (only >= 1 and >= 2 matter). */
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

/** The memo of an accepted histogram: `old` updated in place when there is one (the bucket count is fixed). */
function histogramMemo(h: Histogram, old: HistogramMemo | undefined): HistogramMemo {
  const atLeast = samplesAtLeast(h);
  if (old !== undefined && old.samples.length === h.buckets.length) {
    old.min = h.min;
    old.max = h.max;
    old.ssd = h.sumOfSquaredDeviations.float;
    old.atLeast = atLeast;
    for (let b = 0; b < h.buckets.length; b++) old.samples[b] = h.buckets[b]!.samples;
    return old;
  }
  return {
    min: h.min,
    max: h.max,
    ssd: h.sumOfSquaredDeviations.float,
    atLeast,
    samples: h.buckets.map((b) => b.samples),
  };
}

function checkHistogram(rule: MetricRule, last: HistogramMemo | undefined, h: Histogram): VerifyRejection | null {
  if (last === undefined) return null; // initial state: all counts zero, nothing to compare
  const lastCount = last.atLeast;
  if (lastCount >= 1) {
    if (!sameType(last.min, h.min))
      return pointFailure(
        rule,
        'histogram-min-type-changed',
        `minimum value type changed: ${formatNumber(last.min)} vs ${formatNumber(h.min)}`,
      );
    if (numericValue(h.min) > numericValue(last.min)) {
      return pointFailure(
        rule,
        'histogram-min-increased',
        `minimum value strictly increased from ${formatNumber(last.min)} to ${formatNumber(h.min)}`,
      );
    }
    if (!sameType(last.max, h.max))
      return pointFailure(
        rule,
        'histogram-max-type-changed',
        `maximum value type changed: ${formatNumber(last.max)} vs ${formatNumber(h.max)}`,
      );
    if (numericValue(h.max) < numericValue(last.max)) {
      return pointFailure(
        rule,
        'histogram-max-decreased',
        `maximum value strictly decreased from ${formatNumber(last.max)} to ${formatNumber(h.max)}`,
      );
    }
  }
  if (lastCount >= 2 && h.sumOfSquaredDeviations.float < last.ssd) {
    return pointFailure(
      rule,
      'histogram-ssd-decreased',
      `sum of squared deviations decreased from ${formatNumber({ int: 0, float: last.ssd })} to ` +
        `${formatNumber(h.sumOfSquaredDeviations)}`,
    );
  }
  for (let b = 0; b < h.buckets.length; b++) {
    const was = last.samples[b]!;
    const now = h.buckets[b]!.samples;
    if (was > now)
      return pointFailure(
        rule,
        'histogram-bucket-decreased',
        `number of samples in bucket ${b} (0-based) decreased from ${String(was)} to ${String(now)}`,
      );
  }
  return null;
}
