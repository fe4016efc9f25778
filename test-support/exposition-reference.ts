// THE ORACLE of the exposition tests: a reference serializer of the Prometheus text format
// 0.0.4 (runsc metric-server's shape, Go's defects fixed) and of OpenMetrics 1.0.0, written
// from the rules (packages/prom-format/README.md, docs/compat.md, the spec's prometheus.md
// §3-4), not from the encoder. Property tests hold prom-format's ExpositionBuilder to it.
//
// It must stay INDEPENDENT of the builder: it imports nothing from packages/prom-format but
// the model's types, and has its own name checks, escaping, number and time rendering,
// label ordering and rule order. Shared code would let a rendering bug pass as agreement.
// It is meant to be read, not to be fast: a list of families, sorted, each line a template
// string. When it and the builder disagree, decide from the rules which one is wrong.
//
// Where the builder's current output is questionable but kept (the builder's bytes must
// not change under a refactor), the rule is marked CURRENT BEHAVIOUR below.
import type { Data, Histogram, Labels, Timestamp, WireNumber } from '../packages/prom-format/src/model.js';

export type ReferenceFormat = 'prometheus' | 'openmetrics';

/** One snapshot with what its source decided: the prefix of its metric names and its extra labels. */
export interface ReferenceSnapshot {
  readonly when: Timestamp;
  readonly data: readonly Data[];
  readonly exporterPrefix: string;
  readonly extraLabels: Labels;
}

export interface ReferenceOptions {
  readonly format: ReferenceFormat;
  /** Comment lines before everything else (0.0.4 only), one `# <piece>` per `\n`-separated piece. */
  readonly commentHeader?: string;
  /** Full names whose HELP/TYPE preamble is already out (they get none). Not modified. */
  readonly metricsWritten?: ReadonlySet<string>;
}

/** Which rule refused a point (for tests that count what the generator reaches). */
export type SkipRule =
  | 'invalid-metric-name'
  | 'invalid-extra-label'
  | 'unknown-type'
  | 'no-value'
  | 'invalid-label'
  | 'type-conflict'
  | 'duplicate'
  | 'histogram-series'
  | 'openmetrics-clash';

/** A point left out whole. */
export interface ReferenceSkip {
  /** The snapshot's index in the list given. */
  readonly slot: number;
  /** Its full (prefixed) metric name. */
  readonly metric: string;
  readonly rule: SkipRule;
  readonly reason: string;
}

export interface ReferenceExposition {
  readonly text: string;
  /** Every point not written, once each (in no particular order). */
  readonly skipped: readonly ReferenceSkip[];
  /** `metricsWritten` after this exposition: the names given plus every family with a point written. */
  readonly metricsWritten: ReadonlySet<string>;
}

const UNTYPED = 0;
const GAUGE = 1;
const COUNTER = 2;
const HISTOGRAM = 3;
const KNOWN_TYPES: readonly number[] = [UNTYPED, GAUGE, COUNTER, HISTOGRAM];
const TYPE_WORDS: Record<ReferenceFormat, readonly string[]> = {
  prometheus: ['untyped', 'gauge', 'counter', 'histogram'],
  openmetrics: ['unknown', 'gauge', 'counter', 'histogram'],
};

/** The series a histogram family `h` writes in 0.0.4 (`h_bucket`, ...): no other family may have these names. */
const HISTOGRAM_SERIES_SUFFIXES = ['_bucket', '_sum', '_count', '_min', '_max', '_ssd'];

/** Sample names an OpenMetrics family `f` owns besides `f` itself, by the family's type. */
const OPENMETRICS_SAMPLE_SUFFIXES: Record<number, readonly string[]> = {
  [UNTYPED]: [],
  [GAUGE]: [],
  [COUNTER]: ['_total', '_created'],
  [HISTOGRAM]: ['_bucket', '_sum', '_count', '_created'],
};

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const isMetricName = (name: string): boolean => METRIC_NAME.test(name);
/** Label names starting with `__` are reserved for Prometheus itself. */
const isLabelName = (name: string): boolean => LABEL_NAME.test(name) && !name.startsWith('__');

/** Byte-wise order of the UTF-8 encodings (uppercase < `_` < lowercase). */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

// ---- escaping ----

/** 0.0.4 HELP text: backslash and newline escaped. */
const escapeHelp = (s: string): string => s.replaceAll('\\', '\\\\').replaceAll('\n', '\\n');

/** Label values, and OpenMetrics HELP text: backslash, double quote and newline escaped. */
const escapeQuoted = (s: string): string => s.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');

/** Inside a `#` comment line a newline would end the comment: it is written as `\n`. */
const escapeComment = (s: string): string => s.replaceAll('\n', '\\n');

// ---- numbers ----

/** The exact binary value of a finite, non-negative double: mantissa * 2^exponent. */
function binaryValue(x: number): { mantissa: bigint; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const biasedExponent = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  if (biasedExponent === 0) return { mantissa: fraction, exponent: -1074 }; // subnormal
  return { mantissa: fraction | (1n << 52n), exponent: biasedExponent - 1075 };
}

/** A finite non-zero float with exactly six decimals, rounded half to even on its exact value (Go's `%f`). */
function sixDecimals(f: number): string {
  const { mantissa, exponent } = binaryValue(Math.abs(f));
  // |f| * 10^6 = numerator / denominator, exactly.
  let numerator = mantissa * 10n ** 6n;
  let denominator = 1n;
  if (exponent >= 0) numerator <<= BigInt(exponent);
  else denominator <<= BigInt(-exponent);
  let units = numerator / denominator; // millionths, rounded down
  const twiceRest = 2n * (numerator - units * denominator);
  if (twiceRest > denominator || (twiceRest === denominator && units % 2n === 1n)) units += 1n;
  const digits = units.toString().padStart(7, '0');
  // Like Go, a negative that rounds to zero keeps its sign (-1e-7 is -0.000000).
  return `${f < 0 ? '-' : ''}${digits.slice(0, -6)}.${digits.slice(-6)}`;
}

/**
 * A value or bucket bound: the int part when non-zero (exactly, whatever its size), else
 * the float part: `0`, `NaN`, `+Inf`, `-Inf`, or six decimals.
 */
function renderNumber(n: WireNumber): string {
  const int = BigInt(n.int);
  if (int !== 0n) return int.toString();
  const f = n.float;
  if (f === 0) return '0';
  if (Number.isNaN(f)) return 'NaN';
  if (f === Infinity) return '+Inf';
  if (f === -Infinity) return '-Inf';
  return sixDecimals(f);
}

// ---- time ----

/** Unix milliseconds, rounded down (also before 1970). */
function unixMillis(ts: Timestamp): bigint {
  return BigInt(ts.seconds) * 1000n + BigInt(Math.floor(ts.nanos / 1_000_000));
}

/** A sample's timestamp: milliseconds in 0.0.4; in OpenMetrics seconds, with the milliseconds as decimals. */
function sampleTimestamp(ts: Timestamp, format: ReferenceFormat): string {
  const ms = unixMillis(ts);
  if (format === 'prometheus') return ms.toString();
  const negative = ms < 0n;
  const abs = negative ? -ms : ms;
  const fraction = abs % 1000n;
  return `${negative ? '-' : ''}${abs / 1000n}${fraction === 0n ? '' : `.${fraction.toString().padStart(3, '0')}`}`;
}

/** Go's `time.Time.String()` in UTC: `2024-05-20 18:28:42.123456789 +0000 UTC` (fraction without trailing zeros). */
function goTime(ts: Timestamp): string {
  const d = new Date(ts.seconds * 1000);
  const two = (n: number): string => String(n).padStart(2, '0');
  const y = d.getUTCFullYear();
  const year = y < 0 ? `-${String(-y).padStart(4, '0')}` : String(y).padStart(4, '0');
  const fraction = ts.nanos === 0 ? '' : `.${String(ts.nanos).padStart(9, '0').replace(/0+$/, '')}`;
  const date = `${year}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}`;
  const time = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
  return `${date} ${time}${fraction} +0000 UTC`;
}

// ---- labels ----

type LabelPair = readonly [name: string, value: string];

/** Why a snapshot's extra labels make all of its points unwritable, if they do. */
function extraLabelsProblem(extra: Labels): string | undefined {
  const bad = Object.keys(extra).find((name) => !isLabelName(name));
  return bad === undefined ? undefined : `invalid extra label name ${JSON.stringify(bad)}`;
}

/**
 * A point's labels merged with its snapshot's extra labels: an extra label wins over the
 * point's label of the same name (which is dropped unchecked); byte-wise name order, `le`
 * last. A point label with an invalid name, or an `le` label (own or extra) on a histogram
 * point, refuses the point.
 */
function mergeLabels(own: Labels, extra: Labels, histogram: boolean): LabelPair[] | string {
  if (histogram && Object.hasOwn(extra, 'le')) return 'an extra label "le" on a histogram, whose buckets own "le"';
  const pairs: LabelPair[] = [];
  for (const [name, value] of Object.entries(own)) {
    if (Object.hasOwn(extra, name)) continue;
    if (!isLabelName(name)) return `invalid label name ${JSON.stringify(name)}`;
    if (histogram && name === 'le') return 'a histogram point carries its own "le" label';
    pairs.push([name, value]);
  }
  pairs.push(...Object.entries(extra));
  const leLast = (name: string): number => (name === 'le' ? 1 : 0);
  return pairs.sort(([a], [b]) => leLast(a) - leLast(b) || byteOrder(a, b));
}

const renderPairs = (pairs: readonly LabelPair[]): string =>
  pairs.map(([name, value]) => `${name}="${escapeQuoted(value)}"`).join(',');

/** `{...}`, or nothing for no labels. */
const labelSection = (pairs: readonly LabelPair[]): string => (pairs.length === 0 ? '' : `{${renderPairs(pairs)}}`);

// ---- the exposition ----

/** A data point with where it came from. */
interface Point {
  readonly slot: number;
  /** Full name: the snapshot's prefix and the metric's name. */
  readonly name: string;
  readonly data: Data;
  readonly snapshot: ReferenceSnapshot;
}

/** A point's lines, or why it cannot be written. */
type Rendered =
  | { readonly lines: readonly string[]; readonly labelSet: string }
  | { readonly rule: SkipRule; readonly reason: string };

/** How a family's points are named: full name, HELP/TYPE name, sample name of its counters. */
interface FamilyNames {
  readonly name: string;
  readonly familyName: string;
  readonly counterSample: string;
}

/** The exposition of `snapshots` (in that order: a snapshot's index is its slot). Pure. */
export function referenceExposition(
  snapshots: readonly ReferenceSnapshot[],
  options: ReferenceOptions,
): ReferenceExposition {
  const format = options.format;
  const om = format === 'openmetrics';
  const skipped: ReferenceSkip[] = [];
  const skip = (p: Point, rule: SkipRule, reason: string): void => {
    skipped.push({ slot: p.slot, metric: p.name, rule, reason });
  };
  const written = new Set(options.metricsWritten ?? []);
  // No snapshot: nothing at all in 0.0.4; OpenMetrics always ends with `# EOF`.
  if (snapshots.length === 0) return { text: om ? '# EOF\n' : '', skipped, metricsWritten: written };

  // Families: the points of one full name, in snapshot order, then data order. Two prefixes
  // can meet in one full name (`p_` + `x_y`, `p_x_` + `y`): one family.
  const families = new Map<string, Point[]>();
  snapshots.forEach((snapshot, slot) => {
    for (const data of snapshot.data) {
      const p: Point = { slot, name: snapshot.exporterPrefix + data.metric.name, data, snapshot };
      if (!isMetricName(p.name)) {
        skip(p, 'invalid-metric-name', `invalid metric name ${JSON.stringify(p.name)}`);
        continue;
      }
      const points = families.get(p.name) ?? [];
      points.push(p);
      families.set(p.name, points);
    }
  });
  const names = [...families.keys()].sort(byteOrder);

  // A family named like a series of a histogram family (`h_count` next to histogram `h`)
  // would split that histogram: it is left out whole. A family is a histogram family when
  // any of its points is a histogram, written or not, and whether or not it is left out itself.
  const histogramOf = new Map<string, string>();
  for (const name of names) {
    if (!families.get(name)!.some((p) => p.data.metric.type === HISTOGRAM)) continue;
    for (const suffix of HISTOGRAM_SERIES_SUFFIXES) histogramOf.set(name + suffix, name);
  }

  // OpenMetrics: a counter's family drops its `_total` and samples as `<family>_total`; no
  // name may belong to two families, so in name order each family takes its family name
  // and sample names, and a family wanting a name already taken is left out whole. The type
  // deciding this is its first point's of a known type, written or not. CURRENT BEHAVIOUR:
  // a family takes its names even when none of its points is written.
  const openMetricsName = new Map<string, string>();
  const clashes = new Map<string, string>();
  if (om) {
    const takenBy = new Map<string, string>();
    for (const name of names) {
      if (histogramOf.has(name)) continue;
      const type = families.get(name)!.find((p) => KNOWN_TYPES.includes(p.data.metric.type))?.data.metric.type;
      const isCounter = type === COUNTER;
      const family = isCounter && name.endsWith('_total') && name !== '_total' ? name.slice(0, -'_total'.length) : name;
      const wanted = [family, ...OPENMETRICS_SAMPLE_SUFFIXES[type ?? UNTYPED]!.map((suffix) => family + suffix)];
      const taken = wanted.find((n) => takenBy.has(n));
      if (taken !== undefined) {
        clashes.set(name, `OpenMetrics name ${taken} already belongs to ${takenBy.get(taken)}`);
        continue;
      }
      for (const n of wanted) takenBy.set(n, name);
      openMetricsName.set(name, family);
    }
  }

  let body = '';
  for (const name of names) {
    const points = families.get(name)!;
    const histogram = histogramOf.get(name);
    if (histogram !== undefined) {
      for (const p of points) skip(p, 'histogram-series', `${name} is a series of histogram ${histogram}`);
      continue;
    }
    const clash = clashes.get(name);
    if (clash !== undefined) {
      for (const p of points) skip(p, 'openmetrics-clash', clash);
      continue;
    }
    const familyName = om ? openMetricsName.get(name)! : name;
    const naming: FamilyNames = { name, familyName, counterSample: om ? `${familyName}_total` : name };
    body += renderFamily(naming, points, format, written, skip);
  }

  const header = om ? '' : headerText(snapshots, options.commentHeader ?? '');
  const footer = om ? '# EOF\n' : '\n# End of metric data.\n';
  return { text: header + body + footer, skipped, metricsWritten: written };
}

/**
 * 0.0.4's comment block: the caller's lines, a summary of the snapshots (for several: one
 * line each with its extra labels as a Go map, keys sorted), then a blank line.
 */
function headerText(snapshots: readonly ReferenceSnapshot[], commentHeader: string): string {
  const lines: string[] = [];
  if (commentHeader !== '') for (const piece of commentHeader.split('\n')) lines.push(`# ${piece}`);
  if (snapshots.length === 1) {
    const s = snapshots[0]!;
    lines.push(`# Writing data from snapshot containing ${s.data.length} data points taken at ${goTime(s.when)}.`);
  } else {
    lines.push(`# Writing data from ${snapshots.length} snapshots:`);
    for (const s of snapshots) {
      const map = Object.keys(s.extraLabels)
        .sort(byteOrder)
        .map((k) => `${k}:${s.extraLabels[k]}`)
        .join(' ');
      lines.push(
        `#   - Snapshot with ${s.data.length} data points taken at ${goTime(s.when)}: map[${escapeComment(map)}]`,
      );
    }
  }
  return `${lines.map((line) => `${line}\n`).join('')}\n`;
}

/** HELP (when there is help) and TYPE; in 0.0.4 after a blank line. */
function preamble(familyName: string, data: Data, format: ReferenceFormat): string {
  const help = data.metric.help;
  const escapedHelp = format === 'openmetrics' ? escapeQuoted(help) : escapeHelp(help);
  const helpLine = help === '' ? '' : `# HELP ${familyName} ${escapedHelp}\n`;
  const typeLine = `# TYPE ${familyName} ${TYPE_WORDS[format][data.metric.type]}\n`;
  return format === 'openmetrics' ? helpLine + typeLine : `\n${helpLine}${typeLine}`;
}

/**
 * One family's points in order. The first point written decides the family's type (later
 * points of another type are refused) and its HELP/TYPE preamble (once per full name, unless
 * already written); a point whose merged label set was already written in the family, from
 * whichever snapshot, is a duplicate series.
 */
function renderFamily(
  names: FamilyNames,
  points: readonly Point[],
  format: ReferenceFormat,
  written: Set<string>,
  skip: (p: Point, rule: SkipRule, reason: string) => void,
): string {
  let familyType: number | undefined;
  const labelSets = new Set<string>();
  let text = '';
  for (const p of points) {
    const type = p.data.metric.type;
    const extraProblem = extraLabelsProblem(p.snapshot.extraLabels);
    if (extraProblem !== undefined) {
      skip(p, 'invalid-extra-label', extraProblem);
      continue;
    }
    if (!KNOWN_TYPES.includes(type)) {
      skip(p, 'unknown-type', `unknown metric type ${type}`);
      continue;
    }
    if (familyType !== undefined && type !== familyType) {
      skip(
        p,
        'type-conflict',
        `type ${TYPE_WORDS.prometheus[type]} conflicts with ${TYPE_WORDS.prometheus[familyType]}`,
      );
      continue;
    }
    const rendered = type === HISTOGRAM ? histogramLines(names.name, p, format) : sampleLine(names, p, format);
    if ('reason' in rendered) {
      skip(p, rendered.rule, rendered.reason);
      continue;
    }
    if (labelSets.has(rendered.labelSet)) {
      skip(p, 'duplicate', `duplicate series ${names.name}{${rendered.labelSet}}`);
      continue;
    }
    labelSets.add(rendered.labelSet);
    const head = familyType === undefined && !written.has(names.name) ? preamble(names.familyName, p.data, format) : '';
    familyType = type;
    written.add(names.name);
    const lines = rendered.lines.map((line) => `${line}\n`).join('');
    // In 0.0.4 a histogram stands between blank lines; its preamble comes after the first.
    text += type === HISTOGRAM && format === 'prometheus' ? `\n${head}${lines}\n` : head + lines;
  }
  return text;
}

/** An untyped, gauge or counter point: `<name>{<labels>} <value> <timestamp>`. */
function sampleLine(names: FamilyNames, p: Point, format: ReferenceFormat): Rendered {
  const value = p.data.number;
  if (value === undefined) return { rule: 'no-value', reason: 'no value' };
  const pairs = mergeLabels(p.data.labels, p.snapshot.extraLabels, false);
  if (typeof pairs === 'string') return { rule: 'invalid-label', reason: pairs };
  const sampleName = p.data.metric.type === COUNTER ? names.counterSample : names.name;
  const line = `${sampleName}${labelSection(pairs)} ${renderNumber(value)} ${sampleTimestamp(p.snapshot.when, format)}`;
  return { lines: [line], labelSet: renderPairs(pairs) };
}

/**
 * A histogram point: cumulative `_bucket` lines (`le` last), `_sum`, `_count`, and in 0.0.4
 * `_min`, `_max`, `_ssd`. OpenMetrics requires a `+Inf` bucket: added when the last bound
 * is not +Inf.
 */
function histogramLines(name: string, p: Point, format: ReferenceFormat): Rendered {
  const h: Histogram | undefined = p.data.histogramValue;
  if (h === undefined) return { rule: 'no-value', reason: 'no histogram value' };
  const pairs = mergeLabels(p.data.labels, p.snapshot.extraLabels, true);
  if (typeof pairs === 'string') return { rule: 'invalid-label', reason: pairs };
  const ts = sampleTimestamp(p.snapshot.when, format);
  const labels = labelSection(pairs);
  const bucket = (bound: string, count: bigint): string =>
    `${name}_bucket{${renderPairs([...pairs, ['le', bound]])}} ${count} ${ts}`;
  const lines: string[] = [];
  let count = 0n;
  let lastBound: string | undefined;
  for (const b of h.buckets) {
    count += BigInt(b.samples);
    lastBound = renderNumber(b.upperBound);
    lines.push(bucket(lastBound, count));
  }
  if (format === 'openmetrics' && lastBound !== '+Inf') lines.push(bucket('+Inf', count));
  lines.push(`${name}_sum${labels} ${renderNumber(h.total)} ${ts}`);
  lines.push(`${name}_count${labels} ${count} ${ts}`);
  if (format === 'prometheus') {
    lines.push(`${name}_min${labels} ${renderNumber(h.min)} ${ts}`);
    lines.push(`${name}_max${labels} ${renderNumber(h.max)} ${ts}`);
    lines.push(`${name}_ssd${labels} ${renderNumber(h.sumOfSquaredDeviations)} ${ts}`);
  }
  return { lines, labelSet: renderPairs(pairs) };
}
