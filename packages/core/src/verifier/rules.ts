// Registration validation (prometheus.md §5.1) and the per-metric lookup
// tables the verifier consults for every data point. Immutable and built once
// per registration object (sandboxes of one runsc build share one interned
// registration, see sandbox/load.ts), so 1000 sandboxes hold one table.
import type { MetricMetadata, MetricRegistration, WireNumber } from '@org/metricserver-prom-format';
import { RegistrationError } from './errors.js';
import { isModelInt64 } from './number.js';

const PROCESS_METRIC_NAMES: ReadonlySet<string> = new Set([
  'process_cpu_seconds_total',
  'process_open_fds',
  'process_max_fds',
  'process_virtual_memory_bytes',
  'process_virtual_memory_max_bytes',
  'process_resident_memory_bytes',
  'process_heap_bytes',
  'process_start_time_seconds',
  'process_threads',
]);
const META_PREFIX = 'meta_';
const LOWERCASE_LETTER = /^\p{Ll}$/u;
const NAME_CHARS = /^[\p{Ll}\p{Nd}_]*$/u;
const NAME_CHAR = /[\p{Ll}\p{Nd}_]/u;

export type RuleKind = 'counter' | 'gauge' | 'histogram';

export interface FieldRule {
  readonly name: string;
  /** Allowed value → its index; the index is what multi-field series keys are built from. */
  readonly allowed: ReadonlyMap<string, number>;
}

/** Everything needed to check one metric's data points. Immutable: shared by every Verifier of the registration. */
export interface MetricRule {
  /** Position in the registration: the index of this metric's per-sandbox state in a Verifier. */
  readonly index: number;
  readonly name: string;
  readonly type: number;
  readonly help: string;
  readonly kind: RuleKind;
  readonly fields: readonly FieldRule[];
  /** Histograms only: expected upper bound of each bucket, exact (int/float parts matter). */
  readonly bucketBounds: readonly WireNumber[];
  /**
   * Duplicate-series scratch of the verify() call running now (any sandbox): the call's
   * stamp and the series keys it saw (several fields), or per allowed value the stamp of
   * the last call that saw it (one field). The only mutable part of a rule; safe to share
   * because verify() is synchronous, so calls never interleave.
   */
  readonly seen: { stamp: number; keys: Set<string> | null; readonly byValue: Float64Array | null };
}

/** Accepted registrations' tables; an entry lives as long as its registration object. */
const byRegistration = new WeakMap<MetricRegistration, ReadonlyMap<string, MetricRule>>();

/**
 * Tables by content, whatever the order the registration lists its metrics in: runsc
 * lists them in another order per sandbox process, and each order is its own interned
 * registration. One table for all of them keeps what every point consults (~200 rules
 * and their maps) in one place in the cache instead of one copy per order. A rule's
 * `index` is its position in the first such registration; it only indexes a Verifier's
 * own memos, so any consistent numbering does. Bounded like registration interning.
 */
const byContent = new Map<string, ReadonlyMap<string, MetricRule>>();
const MAX_SHARED_TABLES = 16;

/**
 * The (shared, immutable) lookup table of `registration` by Prometheus name, validated
 * once per registration object. Throws RegistrationError (a rejected registration is not cached).
 */
export function rulesFor(registration: MetricRegistration): ReadonlyMap<string, MetricRule> {
  if (typeof registration === 'object' && registration !== null) {
    const cached = byRegistration.get(registration);
    if (cached !== undefined) return cached;
  }
  const rules = buildRules(registration);
  const key = contentKey(registration);
  let table: ReadonlyMap<string, MetricRule> | undefined = byContent.get(key);
  if (table === undefined) {
    table = rules;
    if (byContent.size < MAX_SHARED_TABLES) byContent.set(key, rules);
  }
  byRegistration.set(registration, table);
  return table;
}

/** The same text for registrations that list the same metrics (each exactly as given) in any order. */
function contentKey(registration: MetricRegistration): string {
  const text = (m: MetricMetadata): string =>
    JSON.stringify(m, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
  return registration.metrics.map(text).sort().join('\n');
}

/** Validates `registration` and returns the lookup table by Prometheus name. Throws RegistrationError. */
export function buildRules(registration: MetricRegistration): Map<string, MetricRule> {
  if (typeof registration !== 'object' || registration === null) {
    throw new RegistrationError('', 'metric registration is missing (the state file has no registeredMetrics)');
  }
  const metrics: readonly MetricMetadata[] = registration.metrics ?? [];
  const rules = new Map<string, MetricRule>();
  for (const m of metrics) {
    const name = typeof m?.prometheusName === 'string' ? m.prometheusName : '';
    if (rules.has(name)) throw new RegistrationError(name, `metric ${JSON.stringify(name)} registered twice`);
    const problem = metadataProblem(m, name);
    if (problem !== null) throw new RegistrationError(name, `metric ${JSON.stringify(name)}: ${problem}`);
    rules.set(name, buildRule(m, name, rules.size));
  }
  return rules;
}

function metadataProblem(m: MetricMetadata, name: string): string | null {
  if (typeof m !== 'object' || m === null) return 'metric has no name';
  if (!m.name || !name) return 'metric has no name';
  if (PROCESS_METRIC_NAMES.has(name)) return `name is reserved for the process metric ${JSON.stringify(name)}`;
  if (name.startsWith(META_PREFIX))
    return `name uses the reserved prefix "${META_PREFIX}" of metric-server meta metrics`;
  // Go tests the first *byte* as a Latin-1 code point (a quirk we keep: registrations must be accepted alike).
  const firstByte = Buffer.from(name, 'utf8')[0]!;
  if (!LOWERCASE_LETTER.test(String.fromCharCode(firstByte))) {
    return `invalid initial character in prometheus metric name: ${JSON.stringify(name)}`;
  }
  if (!NAME_CHARS.test(name)) {
    const bad = [...name].find((c) => !NAME_CHAR.test(c)) ?? '?';
    return `invalid character ${bad} in prometheus metric name ${JSON.stringify(name)}`;
  }
  const seenFields = new Set<string>();
  for (const f of m.fields ?? []) {
    const fname = f.fieldName;
    if (seenFields.has(fname)) return `field ${fname} is defined twice`;
    seenFields.add(fname);
    const values = f.allowedValues ?? [];
    if (values.length === 0) return `field ${fname} has no allowed values`;
    const seenValues = new Set<string>();
    for (const v of values) {
      if (seenValues.has(v)) return `field ${fname} has duplicate allowed value ${JSON.stringify(v)}`;
      seenValues.add(v);
    }
  }
  if (m.type === 0) return null;
  if (m.type === 1) {
    const bounds = m.distributionBucketLowerBounds ?? [];
    const buckets = bounds.length + 1;
    if (buckets <= 1 || buckets > 256) return `unsupported number of buckets: ${buckets}`;
    if (!bounds.every(isModelInt64)) return 'distribution bucket lower bounds must be 64-bit integers';
    return null;
  }
  return `invalid type: ${String(m.type)}`;
}

function buildRule(m: MetricMetadata, name: string, index: number): MetricRule {
  const fields: FieldRule[] = (m.fields ?? []).map((f) => ({
    name: f.fieldName,
    allowed: new Map(f.allowedValues.map((v, i) => [v, i] as const)),
  }));
  let kind: RuleKind;
  let type: number;
  let bucketBounds: WireNumber[] = [];
  if (m.type === 1) {
    kind = 'histogram';
    type = 3;
    bucketBounds = (m.distributionBucketLowerBounds ?? []).map((b) => ({ int: b, float: 0 }));
    bucketBounds.push({ int: 0, float: Number.POSITIVE_INFINITY });
  } else if (m.cumulative) {
    kind = 'counter';
    type = 2;
  } else {
    kind = 'gauge';
    type = 1;
  }
  const byValue = fields.length === 1 ? new Float64Array(fields[0]!.allowed.size) : null;
  return {
    index,
    name,
    type,
    help: m.description ?? '',
    kind,
    fields,
    bucketBounds,
    seen: { stamp: 0, keys: null, byValue },
  };
}
