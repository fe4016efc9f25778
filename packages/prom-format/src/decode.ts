// Strict decoders from Go encoding/json shapes into the model (prometheus.md §2,
// runsc-interfaces.md §6-7). Go semantics: keys match case-insensitively (exact
// spelling first, folding only on a miss), unknown keys are ignored, `null` means
// absent, a later duplicate key wins. Every malformed shape is a DecodeError with a
// path; nothing else escapes.
//
// Per point for every Export reply the canonical fast path (canonical.ts) declines: real
// runsc replies take that path, this one is the fallback and the only definition of errors.
// Paths are a reused segment stack turned into a string only on error; `{}` decodes to the
// shared ZERO; label objects from the parser are reused as-is when well-formed.
import { DecodeError } from './errors.js';
import { FloatLiteral, INT64_MAX, INT64_MIN, UINT64_MAX } from './json.js';
import {
  type Bucket,
  type Data,
  type Histogram,
  type Int64,
  type Labels,
  type Metric,
  type MetricField,
  type MetricMetadata,
  type MetricRegistration,
  NO_LABELS,
  type Snapshot,
  type Timestamp,
  type WireNumber,
} from './model.js';
import { normalizeInt64, ZERO } from './number.js';
import { parseRfc3339, TimestampError } from './time.js';

export { DecodeError } from './errors.js';

/** The decoded `Metrics.Export` result. */
export interface ExportResult {
  readonly snapshot: Snapshot;
}

const EMPTY_ARRAY: readonly never[] = Object.freeze([]);

/** Segments of the current JSON path; rendered only when an error is thrown. */
class PathStack {
  private readonly segs: (string | number)[] = [];
  constructor(private readonly root: string) {}
  push(seg: string | number): void {
    this.segs.push(seg);
  }
  pop(): void {
    this.segs.pop();
  }
  render(last?: string): string {
    let out = this.root;
    for (const s of this.segs) out += typeof s === 'number' ? `[${s}]` : `.${s}`;
    if (last !== undefined) out += `.${last}`;
    return out;
  }
  fail(detail: string, last?: string): never {
    throw new DecodeError(this.render(last), detail);
  }
}

type JsonObject = Record<string, unknown>;

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof FloatLiteral);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof FloatLiteral) return `the number ${String(v.value)} written as a float`;
  if (typeof v === 'bigint') return `the number ${v.toString()}`;
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `a string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v === 'number' ? 'the number' : `a ${typeof v}`} ${String(v)}`;
}

/** Go's case folding of a JSON key against our ASCII field names (ſ folds to s, K to k). */
function foldKey(k: string): string {
  const l = k.toLowerCase();
  return l.includes('\u017f') ? l.replace(/\u017f/g, 's') : l;
}

/** The exact spelling costs one Set lookup; only other spellings pay for folding. */
function keyIn(k: string, known: ReadonlySet<string>): string {
  return known.has(k) ? k : foldKey(k);
}

const NUMBER_KEYS = new Set(['int', 'float']);
const METRIC_KEYS = new Set(['name', 'type', 'help']);
const BUCKET_KEYS = new Set(['le', 'n']);
const HISTOGRAM_KEYS = new Set(['total', 'min', 'max', 'ssd', 'buckets']);
const DATA_KEYS = new Set(['metric', 'labels', 'external_labels', 'val', 'histogram']);
const SNAPSHOT_KEYS = new Set(['when', 'data']);

function expectObject(v: unknown, p: PathStack, what: string, last?: string): JsonObject {
  if (!isObject(v)) p.fail(`expected ${what} object, got ${describe(v)}`, last);
  return v;
}

/**
 * The array at `key` decoded element by element, `element` seeing `key[i]` on the path (so its
 * errors name the element, e.g. `$.snapshot.data[3].val.int`); undefined when null or absent.
 * `what` names the elements in the error for anything that is not an array. Its one call site
 * for every element decoder keeps V8 from inlining them: a general-path decode of a snapshot is
 * ~15-20% slower than with a loop per array (microbenchmark), a price paid only off the fast path.
 */
function decodeArray<T>(
  v: unknown,
  p: PathStack,
  key: string,
  what: string,
  element: (e: unknown, p: PathStack) => T,
): T[] | undefined {
  if (v === null || v === undefined) return undefined;
  if (!Array.isArray(v)) p.fail(`expected an array of ${what}, got ${describe(v)}`, key);
  const out = new Array<T>(v.length);
  p.push(key);
  for (let i = 0; i < v.length; i++) {
    p.push(i);
    out[i] = element(v[i], p);
    p.pop();
  }
  p.pop();
  return out;
}

function readString(v: unknown, p: PathStack, key: string): string {
  if (v === null || v === undefined) return '';
  if (typeof v !== 'string') p.fail(`expected a string, got ${describe(v)}`, key);
  return v;
}

function readBool(v: unknown, p: PathStack, key: string): boolean {
  if (v === null || v === undefined) return false;
  if (typeof v !== 'boolean') p.fail(`expected true or false, got ${describe(v)}`, key);
  return v;
}

type IntKind = 'int64' | 'uint64' | 'int32';

/** An integer literal in range for `kind` (Go refuses 1.5, 1e3, 1.0, and out-of-range values). */
function readInt(v: unknown, p: PathStack, key: string | undefined, kind: IntKind): Int64 {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) p.fail(`expected an integer (${kind}), got ${describe(v)}`, key);
    // From parseJson, plain numbers are exact integer literals (larger ones are bigints).
    // A caller that used JSON.parse may hand a rounded one: refuse it rather than guess.
    if (!Number.isSafeInteger(v))
      p.fail(`integer ${String(v)} is beyond 2^53 and was not parsed losslessly (use parseJson)`, key);
    if (kind === 'uint64' && v < 0) p.fail(`expected an unsigned integer (uint64), got ${v}`, key);
    if (kind === 'int32' && (v < -2147483648 || v > 2147483647)) p.fail(`integer ${v} out of int32 range`, key);
    return v === 0 ? 0 : v;
  }
  if (typeof v === 'bigint') {
    const [min, max] =
      kind === 'uint64' ? [0n, UINT64_MAX] : kind === 'int64' ? [INT64_MIN, INT64_MAX] : [-2147483648n, 2147483647n];
    if (v < min || v > max) p.fail(`integer ${v.toString()} out of ${kind} range`, key);
    return normalizeInt64(v);
  }
  if (v instanceof FloatLiteral) p.fail(`expected an integer literal (${kind}), got ${describe(v)}`, key);
  return p.fail(`expected an integer (${kind}), got ${describe(v)}`, key);
}

/** A float64 field; the strings "+Inf", "-Inf", "NaN" are accepted as an extension. */
function readFloat(v: unknown, p: PathStack, key: string): number {
  if (v === null || v === undefined) return 0;
  let f: number;
  if (typeof v === 'number') f = v;
  else if (v instanceof FloatLiteral) f = v.value;
  else if (typeof v === 'bigint') f = Number(v);
  else if (v === '+Inf') return Infinity;
  else if (v === '-Inf') return -Infinity;
  else if (v === 'NaN') return NaN;
  else return p.fail(`expected a number (or "+Inf", "-Inf", "NaN"), got ${describe(v)}`, key);
  if (!Number.isFinite(f)) p.fail('number out of float64 range', key);
  return f === 0 ? 0 : f; // -0 is the canonical zero
}

/** prometheus.Number: `{}` is ZERO (shared), `{"int":5}`, `{"float":2.5}`. */
function decodeNumber(v: unknown, p: PathStack): WireNumber {
  const o = expectObject(v, p, 'a Number');
  let int: Int64 = 0;
  let float = 0;
  for (const k in o) {
    switch (keyIn(k, NUMBER_KEYS)) {
      case 'int':
        int = readInt(o[k], p, k, 'int64');
        break;
      case 'float':
        float = readFloat(o[k], p, k);
        break;
    }
  }
  if (int === 0 && float === 0) return ZERO;
  return { int, float };
}

function decodeOptionalNumber(v: unknown, p: PathStack, key: string): WireNumber {
  if (v === null || v === undefined) return ZERO;
  p.push(key);
  const n = decodeNumber(v, p);
  p.pop();
  return n;
}

/** `{string: string}`; the parser's object is returned as-is when every value is a string. */
function decodeLabels(v: unknown, p: PathStack, key: string): Labels {
  if (v === null || v === undefined) return NO_LABELS;
  const o = expectObject(v, p, 'a label map', key);
  let copy: Record<string, string> | undefined;
  for (const k in o) {
    const val = o[k];
    if (typeof val === 'string') continue;
    if (val !== null) {
      p.push(key);
      p.fail(`label values must be strings, got ${describe(val)}`, k);
    }
    copy ??= { ...(o as Record<string, string>) }; // Go stores "" for a null map value
    copy[k] = '';
  }
  return copy ?? (o as Labels);
}

function decodeMetric(v: unknown, p: PathStack): Metric {
  if (v === null || v === undefined) p.fail('missing metric (Go would crash on this data point)', 'metric');
  const o = expectObject(v, p, 'a Metric', 'metric');
  // Fast path (per point): the parser's object already has the model's exact shape, so it is
  // the Metric itself (one object less per data point). Anything else takes the checked copy.
  let keys = 0;
  for (const k in o) {
    if (k !== 'name' && k !== 'type' && k !== 'help') {
      keys = -1;
      break;
    }
    keys++;
  }
  if (keys === 3) {
    const t = o['type'];
    if (
      typeof o['name'] === 'string' &&
      typeof o['help'] === 'string' &&
      typeof t === 'number' &&
      Number.isSafeInteger(t) &&
      !Object.is(t, -0)
    ) {
      return o as unknown as Metric;
    }
  }
  let name = '';
  let type: Int64 = 0;
  let help = '';
  p.push('metric');
  for (const k in o) {
    switch (keyIn(k, METRIC_KEYS)) {
      case 'name':
        name = readString(o[k], p, k);
        break;
      case 'type':
        type = readInt(o[k], p, k, 'int64');
        break;
      case 'help':
        help = readString(o[k], p, k);
        break;
    }
  }
  // Go's Type is an int; values beyond 2^53 are no type anyone knows: refuse rather than carry a bigint.
  if (typeof type === 'bigint') p.fail(`metric type ${type.toString()} out of range`, 'type');
  p.pop();
  return { name, type, help };
}

function decodeBucket(v: unknown, p: PathStack): Bucket {
  const o = expectObject(v, p, 'a Bucket');
  let upperBound: WireNumber = ZERO;
  let samples: Int64 = 0;
  for (const k in o) {
    switch (keyIn(k, BUCKET_KEYS)) {
      case 'le':
        upperBound = decodeOptionalNumber(o[k], p, k);
        break;
      case 'n':
        samples = readInt(o[k], p, k, 'uint64');
        break;
    }
  }
  return { upperBound, samples };
}

function decodeHistogram(v: unknown, p: PathStack): Histogram {
  const o = expectObject(v, p, 'a Histogram');
  let total = ZERO;
  let min = ZERO;
  let max = ZERO;
  let ssd = ZERO;
  let buckets: readonly Bucket[] = EMPTY_ARRAY;
  for (const k in o) {
    switch (keyIn(k, HISTOGRAM_KEYS)) {
      case 'total':
        total = decodeOptionalNumber(o[k], p, k);
        break;
      case 'min':
        min = decodeOptionalNumber(o[k], p, k);
        break;
      case 'max':
        max = decodeOptionalNumber(o[k], p, k);
        break;
      case 'ssd':
        ssd = decodeOptionalNumber(o[k], p, k);
        break;
      case 'buckets':
        buckets = decodeArray(o[k], p, k, 'buckets', decodeBucket) ?? buckets;
        break;
    }
  }
  return { total, min, max, sumOfSquaredDeviations: ssd, buckets };
}

function decodeData(v: unknown, p: PathStack): Data {
  const o = expectObject(v, p, 'a Data');
  let metricRaw: unknown;
  let labels: Labels = NO_LABELS;
  let number: WireNumber | undefined;
  let histogramValue: Histogram | undefined;
  for (const k in o) {
    const val = o[k];
    switch (keyIn(k, DATA_KEYS)) {
      case 'metric':
        metricRaw = val;
        break;
      case 'labels':
        labels = decodeLabels(val, p, k);
        break;
      case 'external_labels': {
        const ext = decodeLabels(val, p, k);
        for (const _ in ext) {
          // Only the server decides identity labels; a sandbox could impersonate another through these.
          p.fail('data points with external_labels are refused: only the metric server sets identity labels', k);
        }
        break;
      }
      case 'val':
        if (val === null || val === undefined) number = undefined;
        else {
          p.push(k);
          number = decodeNumber(val, p);
          p.pop();
        }
        break;
      case 'histogram':
        if (val === null || val === undefined) histogramValue = undefined;
        else {
          p.push(k);
          histogramValue = decodeHistogram(val, p);
          p.pop();
        }
        break;
    }
  }
  const metric = decodeMetric(metricRaw, p);
  if (histogramValue !== undefined) {
    return number !== undefined ? { metric, labels, number, histogramValue } : { metric, labels, histogramValue };
  }
  return number !== undefined ? { metric, labels, number } : { metric, labels };
}

function decodeWhen(v: unknown, p: PathStack, key: string): Timestamp {
  if (typeof v !== 'string') p.fail(`expected an RFC 3339 timestamp string, got ${describe(v)}`, key);
  try {
    return parseRfc3339(v);
  } catch (err) {
    if (err instanceof TimestampError) p.fail(err.message, key);
    throw err;
  }
}

function decodeSnapshotAt(v: unknown, p: PathStack): Snapshot {
  const o = expectObject(v, p, 'a Snapshot');
  let when: Timestamp | undefined;
  let data: readonly Data[] = EMPTY_ARRAY;
  for (const k in o) {
    const val = o[k];
    switch (keyIn(k, SNAPSHOT_KEYS)) {
      case 'when':
        when = val === null ? undefined : decodeWhen(val, p, k);
        break;
      case 'data':
        data = decodeArray(val, p, k, 'data points', decodeData) ?? EMPTY_ARRAY;
        break;
    }
  }
  // Go would decode a missing `when` as year 1 and reject it later as too old; it is malformed either way.
  if (when === undefined) p.fail('missing snapshot time', 'when');
  return { when, data };
}

/** Decodes a prometheus.Snapshot. `path` names `value` in error paths (default `$`). */
export function decodeSnapshot(value: unknown, path = '$'): Snapshot {
  return decodeSnapshotAt(value, new PathStack(path));
}

/** Decodes the `Metrics.Export` result `{"snapshot": …}`; a null/missing snapshot is an error. */
export function decodeExportResult(value: unknown, path = '$'): ExportResult {
  const p: PathStack = new PathStack(path);
  const o = expectObject(value, p, 'an export result');
  let raw: unknown;
  for (const k in o) if (k === 'snapshot' || foldKey(k) === 'snapshot') raw = o[k];
  if (raw === null || raw === undefined) p.fail('missing snapshot (Go would crash on this reply)', 'snapshot');
  p.push('snapshot');
  return { snapshot: decodeSnapshotAt(raw, p) };
}

// ---- Registration (state file `sandbox.registeredMetrics`, GetRegisteredMetrics) ----

/** An element of a string array: Go stores "" for null. */
function readStringElement(v: unknown, p: PathStack): string {
  if (typeof v === 'string') return v;
  if (v === null) return '';
  return p.fail(`expected a string, got ${describe(v)}`);
}

function readStringArray(v: unknown, p: PathStack, key: string): readonly string[] {
  return decodeArray(v, p, key, 'strings', readStringElement) ?? EMPTY_ARRAY;
}

/** An element of `distribution_bucket_lower_bounds`. */
function readBound(v: unknown, p: PathStack): Int64 {
  return readInt(v, p, undefined, 'int64');
}

function decodeField(v: unknown, p: PathStack): MetricField {
  const o = expectObject(v, p, 'a MetricField');
  let fieldName = '';
  let allowedValues: readonly string[] = EMPTY_ARRAY;
  for (const k in o) {
    switch (foldKey(k)) {
      case 'field_name':
        fieldName = readString(o[k], p, k);
        break;
      case 'allowed_values':
        allowedValues = readStringArray(o[k], p, k);
        break;
    }
  }
  return { fieldName, allowedValues };
}

function decodeMetadata(v: unknown, p: PathStack): MetricMetadata {
  const o = expectObject(v, p, 'a MetricMetadata');
  let name = '';
  let prometheusName = '';
  let description = '';
  let cumulative = false;
  let sync = false;
  let type = 0;
  let units = 0;
  let fields: readonly MetricField[] = EMPTY_ARRAY;
  let bounds: readonly Int64[] = EMPTY_ARRAY;
  for (const k in o) {
    const val = o[k];
    switch (foldKey(k)) {
      case 'name':
        name = readString(val, p, k);
        break;
      case 'prometheus_name':
        prometheusName = readString(val, p, k);
        break;
      case 'description':
        description = readString(val, p, k);
        break;
      case 'cumulative':
        cumulative = readBool(val, p, k);
        break;
      case 'sync':
        sync = readBool(val, p, k);
        break;
      case 'type':
        type = readInt(val, p, k, 'int32') as number;
        break;
      case 'units':
        units = readInt(val, p, k, 'int32') as number;
        break;
      case 'fields':
        fields = decodeArray(val, p, k, 'fields', decodeField) ?? fields;
        break;
      case 'distribution_bucket_lower_bounds':
        bounds = decodeArray(val, p, k, 'integers', readBound) ?? bounds;
        break;
    }
  }
  return {
    name,
    prometheusName,
    description,
    cumulative,
    sync,
    type,
    units,
    fields,
    distributionBucketLowerBounds: bounds,
  };
}

/** Decodes a gvisor.MetricRegistration (snake_case keys, zero fields omitted, enums as numbers). */
export function decodeRegistration(value: unknown, path = '$'): MetricRegistration {
  const p: PathStack = new PathStack(path);
  const o = expectObject(value, p, 'a MetricRegistration');
  let metrics: readonly MetricMetadata[] = EMPTY_ARRAY;
  let stages: readonly string[] = EMPTY_ARRAY;
  for (const k in o) {
    const val = o[k];
    switch (foldKey(k)) {
      case 'metrics':
        metrics = decodeArray(val, p, k, 'metrics', decodeMetadata) ?? metrics;
        break;
      case 'stages':
        stages = readStringArray(val, p, k);
        break;
    }
  }
  return { metrics, stages };
}
