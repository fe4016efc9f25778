// Rendering of single data points into a reused byte buffer: the primitives and
// line shapes of the ExpositionBuilder (builder.ts), which decides where each point's
// bytes go and writes the HELP/TYPE preambles itself.
//
// Hot path (per sample, ~170 x 1000 per scrape): bytes go straight into one reused
// Buffer, short ASCII (names are ASCII by validation) by a byte loop, UTF-8 only when
// a value needs it; per-snapshot pieces (timestamp suffix, encoded extra labels) are
// built once per snapshot; a histogram's labels are rendered once and copied per line.
import { escapeComment, escapeHelp, escapeLabelValue, escapeOpenMetricsHelp } from './escape.js';
import type { SnapshotExport } from './model.js';
import {
  type Data,
  type Int64,
  type Labels,
  type Metric,
  NO_LABELS,
  type Timestamp,
  type WireNumber,
} from './model.js';
import { isValidLabelName } from './names.js';
import { numberToFloat, renderNumber } from './number.js';
import { formatGoTime, timestampMillis } from './time.js';

const INITIAL_BYTES = 64 * 1024;
export const TYPE_NAMES = ['untyped', 'gauge', 'counter', 'histogram'];
export const OM_TYPE_NAMES = ['unknown', 'gauge', 'counter', 'histogram'];
export const COUNTER = 2;
/** Sample names an OpenMetrics family of each type owns besides (or instead of) its own name. */
export const OM_SUFFIXES: readonly (readonly string[])[] = [
  [''],
  [''],
  ['_total', '_created'],
  ['_bucket', '_sum', '_count', '_created'],
];
export const HISTOGRAM = 3;
export const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count', '_min', '_max', '_ssd'];
export const NL = 0x0a;
export const DUPLICATE = 'duplicate series (same name and labels already written)';
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Per-snapshot pieces computed once per call. */
export interface SnapInfo {
  readonly tsSuffix: Uint8Array; // ` <ms>\n`, encoded once
  readonly extraKeys: readonly string[]; // sorted byte-wise (`le` is held back while merging)
  readonly extraVals: readonly string[]; // raw
  readonly extraPairs: readonly Uint8Array[]; // `key="escaped value"` as UTF-8, encoded once
  readonly extraTails: readonly Uint8Array[]; // pairs b.. joined by `,`
  readonly extraTailPlain: Uint8Array; // 1 when pairs b.. hold no `le` (which must go last)
  readonly extraLabels: Labels;
  readonly invalid: string | undefined; // why every data point of it is skipped
  readonly distinctSeries: boolean; // SnapshotExport.distinctSeries
  separatorId: number; // id of its value for the separating label key, -1 if it has none
}

/** Label-name check shared by both label paths; undefined when fine. */
function checkLabelName(k: string, histogram: boolean): string | undefined {
  if (!isValidLabelName(k))
    return `invalid label name ${JSON.stringify(k)}: must match [a-zA-Z_][a-zA-Z0-9_]* and not start with "__"`;
  if (k === 'le' && histogram) return 'a histogram point cannot carry its own "le" label';
  return undefined;
}

/** Column marker: the point has several labels (or one named like this marker), read the object. */
export const MANY = '\u0000several labels';

/**
 * A frozen Labels object's rendered pairs (no braces, no extra labels), as a latin1
 * string of their UTF-8 bytes (so it is both what to write and the dedupe key), or why
 * the point is skipped. Used for snapshots without extra labels (the server's meta
 * snapshot: the same frozen identity label objects every scrape); entries go with their
 * objects. A frozen object cannot change, so its pairs cannot either.
 */
const frozenSections = new WeakMap<Labels, { readonly text: string; readonly error: string | undefined }>();

function addCount(a: Int64, b: Int64): Int64 {
  if (typeof a === 'number' && typeof b === 'number') {
    const s = a + b;
    if (s <= MAX_SAFE) return s;
  }
  return BigInt(a) + BigInt(b);
}

/** What a snapshot's extra labels alone decide (everything in SnapInfo but the timestamp). */
interface ExtraLabelInfo {
  readonly extraKeys: readonly string[];
  readonly extraVals: readonly string[];
  readonly extraPairs: readonly Uint8Array[];
  readonly extraTails: readonly Uint8Array[];
  readonly extraTailPlain: Uint8Array;
  readonly invalid: string | undefined;
  /** `k:v k:v` in key order, escaped for a comment: the labels' part of a header line. */
  readonly headerMap: string;
}

/**
 * ExtraLabelInfo of frozen label objects: the server passes each sandbox's same frozen
 * labels every scrape, so their keys are sorted and their pairs encoded once, not per
 * snapshot. Entries go with their objects.
 */
const frozenExtras = new WeakMap<Labels, ExtraLabelInfo>();

function extraLabelInfo(extra: Labels): ExtraLabelInfo {
  const frozen = Object.isFrozen(extra);
  const cached = frozen ? frozenExtras.get(extra) : undefined;
  if (cached !== undefined) return cached;
  const keys = Object.keys(extra);
  let invalid: string | undefined;
  for (const k of keys) {
    if (!isValidLabelName(k)) {
      invalid = `invalid extra label name ${JSON.stringify(k)}: must match [a-zA-Z_][a-zA-Z0-9_]* and not start with "__"`;
      break;
    }
  }
  keys.sort();
  const info: ExtraLabelInfo = {
    extraKeys: keys,
    extraVals: keys.map((k) => extra[k]!),
    extraPairs: keys.map((k) => Buffer.from(`${k}="${escapeLabelValue(extra[k]!)}"`, 'utf8')),
    extraTails: keys.map((_, b) =>
      Buffer.from(
        keys
          .slice(b)
          .map((k) => `${k}="${escapeLabelValue(extra[k]!)}"`)
          .join(','),
        'utf8',
      ),
    ),
    extraTailPlain: Uint8Array.from(keys, (_, b) => (keys.slice(b).includes('le') ? 0 : 1)),
    invalid,
    headerMap: escapeComment(keys.map((k) => `${k}:${extra[k]!}`).join(' ')),
  };
  if (frozen) frozenExtras.set(extra, info);
  return info;
}

export function snapInfo(s: SnapshotExport, om: boolean): SnapInfo {
  const x = extraLabelInfo(s.extraLabels);
  return {
    tsSuffix: Buffer.from(
      ` ${om ? timestampSecondsText(s.snapshot.when) : timestampMillis(s.snapshot.when)}\n`,
      'latin1',
    ),
    extraKeys: x.extraKeys,
    extraVals: x.extraVals,
    extraPairs: x.extraPairs,
    extraTails: x.extraTails,
    extraTailPlain: x.extraTailPlain,
    extraLabels: s.extraLabels,
    invalid: x.invalid,
    distinctSeries: s.distinctSeries === true,
    separatorId: -1,
  };
}

/** OpenMetrics timestamps are seconds: the same millisecond precision as 0.0.4, as a decimal. */
export function timestampSecondsText(ts: Timestamp): string {
  const ms = timestampMillis(ts);
  const sec = Math.floor(ms / 1000);
  const frac = ms - sec * 1000;
  return frac === 0 ? String(sec) : `${sec}.${String(frac).padStart(3, '0')}`;
}

/** What rendering a point needs to know of its family. */
/**
 * The point's only label key as writeSample takes it: null for none, MANY for several
 * (the label object is then read). Per point, no allocation.
 */
export function singleLabelKey(labels: Labels): string | null {
  let key: string | null = null;
  for (const k in labels) {
    if (key !== null) return MANY;
    key = k;
  }
  return key;
}

/** writeSample's fast value: a safe-integer int part (zero included), NaN when the slow path must render it. */
export function fastIntValue(n: WireNumber | undefined): number {
  return n !== undefined && typeof n.int === 'number' && (n.int !== 0 || n.float === 0) ? n.int : NaN;
}

/** "00".."99" as ASCII pairs, for integer(). */
const DIGIT_PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  DIGIT_PAIRS[2 * i] = 0x30 + Math.floor(i / 10);
  DIGIT_PAIRS[2 * i + 1] = 0x30 + (i % 10);
}

/** Decimal digits of a non-negative safe integer. */
function decimalDigits(x: number): number {
  if (x < 100000) return x < 10 ? 1 : x < 100 ? 2 : x < 1000 ? 3 : x < 10000 ? 4 : 5;
  let digits = 6;
  for (let bound = 1000000; x >= bound && digits < 16; bound *= 10) digits++;
  return digits;
}

/** One snapshot's line in the header comment. */
export interface HeaderEntry {
  readonly count: number;
  readonly when: Timestamp;
  readonly extraLabels: Labels;
  /** `headerLine(this)`, when made ahead (the builder makes it at add, not in the scrape's tail). */
  readonly line?: string;
}

/** A snapshot's line (escaped, without its newline) in the header of a multi-snapshot exposition. */
export function headerLine(e: HeaderEntry): string {
  // escapeComment maps characters one by one, so the parts can be escaped apart.
  const map = extraLabelInfo(e.extraLabels).headerMap;
  return `${escapeComment(`#   - Snapshot with ${e.count} data points taken at ${formatGoTime(e.when)}`)}: map[${map}]`;
}

/** What separator assignment reads and writes of a snapshot. */
export interface SeparatorInfo {
  readonly extraKeys: readonly string[];
  readonly extraLabels: Labels;
  separatorId: number;
}

export interface PointFamily {
  /** A histogram family's series names (`_bucket`...), made on first use. */
  histNames: string[] | undefined;
}

export class LineEncoder {
  protected buf: Buffer = Buffer.allocUnsafe(INITIAL_BYTES);
  protected pos = 0;
  /** Byte range of the last rendered point's label set (its dedupe key), set by writeSample/writeHistogram. */
  protected keyStart = 0;
  protected keyEnd = 0;
  /** The last label section's bytes as a latin1 string when a cache had it (writeLabelSection), else undefined. */
  protected keyText: string | undefined;

  // ---- buffer primitives ----

  protected ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /**
   * ASCII text (names, numbers, label keys). Short strings are copied by a JS loop:
   * a Buffer#write call costs more than the copy itself at these lengths.
   */
  protected ascii(s: string): void {
    const n = s.length;
    this.ensure(n);
    if (n > 64) {
      this.pos += this.buf.write(s, this.pos, 'latin1');
      return;
    }
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) buf[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  protected utf8(s: string): void {
    this.ensure(s.length * 3); // at most 3 bytes per UTF-16 unit
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /**
   * A label value, escaped, as UTF-8. Fast path: one loop that copies plain ASCII and
   * bails out on the first byte needing care (non-ASCII, quote, backslash, newline).
   */
  protected labelValue(s: string): void {
    const n = s.length;
    this.ensure(n);
    const buf = this.buf;
    const start = this.pos;
    let p = start;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80 || c === 0x22 || c === 0x5c || c === 0x0a) {
        this.pos = start;
        this.utf8(escapeLabelValue(s)); // rare: allocates the escaped copy
        return;
      }
      buf[p++] = c;
    }
    this.pos = p;
  }

  /** Pre-encoded bytes: a JS loop for short ones, TypedArray#set (memcpy) beyond. */
  protected bytes(src: Uint8Array): void {
    const n = src.length;
    this.ensure(n);
    const buf = this.buf;
    if (n > 24) {
      buf.set(src, this.pos);
      this.pos += n;
      return;
    }
    let p = this.pos;
    for (let i = 0; i < n; i++) buf[p++] = src[i]!;
    this.pos = p;
  }

  /**
   * A safe integer in decimal, without a string. Hot (every int point): the digit count by comparisons, then
   * two digits per division, in uint32 arithmetic once the value fits (float division and
   * floor per digit were ~5% of the builder's time).
   */
  protected integer(v: number): void {
    this.ensure(17);
    const buf = this.buf;
    let x = v;
    if (x < 0) {
      buf[this.pos++] = 0x2d;
      x = -x;
    }
    let p = this.pos + decimalDigits(x);
    this.pos = p;
    while (x > 0xffffffff) {
      const q = Math.floor(x / 100);
      const r = (x - q * 100) << 1;
      buf[--p] = DIGIT_PAIRS[r + 1]!;
      buf[--p] = DIGIT_PAIRS[r]!;
      x = q;
    }
    let y = x >>> 0;
    while (y >= 100) {
      const q = (y / 100) >>> 0;
      const r = (y - q * 100) << 1;
      buf[--p] = DIGIT_PAIRS[r + 1]!;
      buf[--p] = DIGIT_PAIRS[r]!;
      y = q;
    }
    if (y >= 10) {
      buf[--p] = DIGIT_PAIRS[(y << 1) + 1]!;
      buf[--p] = DIGIT_PAIRS[y << 1]!;
    } else buf[--p] = 0x30 + y;
  }

  protected byte(c: number): void {
    this.ensure(1);
    this.buf[this.pos++] = c;
  }

  protected copyOwn(start: number, end: number): void {
    this.ensure(end - start);
    this.pos += this.buf.copy(this.buf, this.pos, start, end);
  }

  /** The comment block before the first family (0.0.4 only): the caller's header, then one line per snapshot. */
  protected writeHeader(commentHeader: string, entries: readonly HeaderEntry[]): void {
    if (commentHeader !== '') {
      for (const line of commentHeader.split('\n')) {
        this.utf8('# ');
        this.utf8(line);
        this.byte(NL);
      }
    }
    if (entries.length === 1) {
      const s = entries[0]!;
      this.utf8(`# Writing data from snapshot containing ${s.count} data points taken at ${formatGoTime(s.when)}.\n`);
    } else {
      this.utf8(`# Writing data from ${entries.length} snapshots:\n`);
      for (const e of entries) {
        this.utf8(e.line ?? headerLine(e));
        this.byte(NL);
      }
    }
    this.byte(NL);
  }

  protected preamble(name: string, metric: Metric, om: boolean): void {
    if (!om) this.byte(NL); // OpenMetrics allows no blank line
    const help = metric.help;
    if (help !== '') {
      this.ascii('# HELP ');
      this.ascii(name);
      this.byte(0x20);
      this.utf8(om ? escapeOpenMetricsHelp(help) : escapeHelp(help));
      this.byte(NL);
    }
    this.ascii('# TYPE ');
    this.ascii(name);
    this.byte(0x20);
    this.ascii((om ? OM_TYPE_NAMES : TYPE_NAMES)[metric.type]!);
    this.byte(NL);
  }

  /**
   * Writes the label pairs (no braces) of `d` merged with the snapshot's extra labels:
   * byte-wise order, `le` last, extra labels win. Returns an error text on a bad name.
   */
  /**
   * `single`/`singleValue`: the point's only label as the grouping pass saw it (null: none),
   * so the common case does not touch the labels object; MANY: read `labels`.
   */
  protected writeLabelPairs(
    labels: Labels,
    single: string | null,
    singleValue: string,
    info: SnapInfo,
    histogram: boolean,
  ): string | undefined {
    const extra = info.extraLabels;
    // One sandbox label is the common case: an array only from the second key on.
    let k0: string | undefined;
    let keys: string[] | undefined;
    if (single === MANY) {
      for (const k in labels) {
        if (Object.hasOwn(extra, k)) continue; // the server's label wins; the sandbox's is dropped
        const err = checkLabelName(k, histogram);
        if (err !== undefined) return err;
        if (k0 === undefined) k0 = k;
        else (keys ??= [k0]).push(k);
      }
    } else if (single !== null && !Object.hasOwn(extra, single)) {
      const err = checkLabelName(single, histogram);
      if (err !== undefined) return err;
      k0 = single;
    }
    const fromColumn = single !== MANY;
    if (keys !== undefined)
      keys.sort(); // ASCII (validated): UTF-16 order is byte order
    else if (k0 !== undefined) keys = this.oneKey(k0);
    const xk = info.extraKeys;
    const xv = info.extraVals;
    const nk = keys === undefined ? 0 : keys.length;
    let a = 0;
    let b = 0;
    let first = true;
    let leValue: string | undefined;
    while (a < nk || b < xk.length) {
      let key: string;
      let value: string;
      if (b >= xk.length || (a < nk && keys![a]! < xk[b]!)) {
        key = keys![a++]!;
        value = fromColumn ? singleValue : labels[key]!;
      } else {
        key = xk[b]!;
        if (a >= nk && info.extraTailPlain[b] === 1) {
          // Only extra labels left (the common end of a line): one pre-encoded block.
          if (!first) this.byte(0x2c);
          this.bytes(info.extraTails[b]!);
          first = false;
          break;
        }
        if (key !== 'le') {
          // Extra labels are the same on every line of the snapshot: copy their pre-encoded bytes.
          if (!first) this.byte(0x2c);
          this.bytes(info.extraPairs[b++]!);
          first = false;
          continue;
        }
        value = xv[b++]!;
      }
      if (key === 'le') {
        leValue = value;
        continue;
      }
      this.pair(first, key, value);
      first = false;
    }
    if (leValue !== undefined) this.pair(first, 'le', leValue);
    return undefined;
  }

  protected readonly oneKeyArray: string[] = [''];
  /** A reused one-element array (no allocation for the single-label case). */
  protected oneKey(k: string): string[] {
    this.oneKeyArray[0] = k;
    return this.oneKeyArray;
  }

  protected pair(first: boolean, key: string, value: string): void {
    this.ensure(key.length + 3);
    if (!first) this.buf[this.pos++] = 0x2c;
    this.ascii(key);
    this.buf[this.pos++] = 0x3d; // '=' (room for `,key="` ensured above)
    this.buf[this.pos++] = 0x22;
    this.labelValue(value);
    this.byte(0x22);
  }

  /** Label section `{…}` (or nothing); returns the start of its content (end = pos - 1 or pos), or an error. */
  protected writeLabelSection(d: Data, single: string | null, singleValue: string, info: SnapInfo): number | string {
    this.byte(0x7b);
    const cs = this.pos;
    this.keyText = undefined;
    if (single === MANY && info.extraKeys.length === 0 && Object.isFrozen(d.labels)) {
      let section = frozenSections.get(d.labels);
      if (section === undefined) {
        // Rendered once the ordinary way, then read back: the cache cannot disagree with it.
        const error = this.writeLabelPairs(d.labels, MANY, '', info, false);
        section = { text: error === undefined ? this.buf.toString('latin1', cs, this.pos) : '', error };
        frozenSections.set(d.labels, section);
        this.pos = cs;
      }
      if (section.error !== undefined) return section.error;
      if (section.text === '') {
        this.pos--; // no labels: no braces
        return cs;
      }
      this.ascii(section.text);
      this.keyText = section.text;
      this.byte(0x7d);
      return cs;
    }
    // `d.labels` is read only when the point has several labels (MANY).
    const err = this.writeLabelPairs(single === MANY ? d.labels : NO_LABELS, single, singleValue, info, false);
    if (err !== undefined) return err;
    if (this.pos === cs)
      this.pos--; // no labels: no braces
    else this.byte(0x7d);
    return cs;
  }

  protected isDuplicate(seen: Set<string> | undefined, cs: number, ce: number, known?: string): boolean {
    if (seen === undefined) return false;
    const key = known ?? this.buf.toString('latin1', cs, ce); // latin1 maps bytes 1:1, so equal keys = equal bytes
    if (seen.has(key)) return true;
    seen.add(key);
    return false;
  }

  /** One sample line; `d` itself is read only for non-integer values. */
  protected writeSample(
    name: string,
    d: Data,
    single: string | null,
    singleValue: string,
    value: number,
    info: SnapInfo,
    seen: Set<string> | undefined,
  ): string | undefined {
    const slow = Number.isNaN(value) ? d.number : undefined; // NaN: float, bigint or no value
    if (Number.isNaN(value) && slow === undefined) return 'no value for a gauge, counter or untyped metric';
    this.ascii(name);
    const cs = this.writeLabelSection(d, single, singleValue, info);
    if (typeof cs === 'string') return cs;
    const ce = cs < this.pos ? this.pos - 1 : cs;
    this.keyStart = cs;
    this.keyEnd = ce;
    if (seen !== undefined && this.isDuplicate(seen, cs, ce, this.keyText)) return DUPLICATE;
    this.byte(0x20);
    if (slow === undefined) this.integer(value);
    else this.ascii(renderNumber(slow));
    this.bytes(info.tsSuffix);
    return undefined;
  }

  protected writeHistogram(
    st: PointFamily,
    d: Data,
    info: SnapInfo,
    seen: Set<string> | undefined,
    om: boolean,
  ): string | undefined {
    const names = st.histNames!;
    const h = d.histogramValue;
    if (h === undefined) return 'no histogram value for a histogram metric';
    if (!om) this.byte(NL);
    // Render the label pairs once (on the first line), copy them for every other line.
    const buckets = h.buckets;
    let cs = 0;
    let ce = 0;
    let lineNo = 0;
    const open = (seriesName: string): string | undefined => {
      this.ascii(seriesName);
      this.byte(0x7b);
      if (lineNo++ > 0) {
        this.copyOwn(cs, ce);
        return undefined;
      }
      cs = this.pos;
      const err = this.writeLabelPairs(d.labels, MANY, '', info, true);
      if (err !== undefined) return err;
      ce = this.pos;
      this.keyStart = cs;
      this.keyEnd = ce;
      return this.isDuplicate(seen, cs, ce) ? DUPLICATE : undefined;
    };
    let cum: Int64 = 0;
    const bucket = (le: string): string | undefined => {
      const err = open(names[0]!);
      if (err !== undefined) return err;
      if (ce > cs) this.byte(0x2c);
      this.ascii('le="');
      this.ascii(le);
      this.ascii('"} ');
      this.ascii(String(cum));
      this.bytes(info.tsSuffix);
      return undefined;
    };
    let lastBound = 0;
    for (let i = 0; i < buckets.length; i++) {
      const b = buckets[i]!;
      cum = addCount(cum, b.samples);
      lastBound = numberToFloat(b.upperBound);
      const err = bucket(renderNumber(b.upperBound));
      if (err !== undefined) return err;
    }
    // OpenMetrics requires the +Inf bucket (gVisor always sends its overflow bucket last).
    if (om && lastBound !== Infinity) {
      const err = bucket('+Inf');
      if (err !== undefined) return err;
    }
    const tail = (idx: number, value: string): string | undefined => {
      const err = open(names[idx]!);
      if (err !== undefined) return err;
      if (ce === cs)
        this.pos--; // drop the `{` of an empty label set
      else this.byte(0x7d);
      this.byte(0x20);
      this.ascii(value);
      this.bytes(info.tsSuffix);
      return undefined;
    };
    const err = tail(1, renderNumber(h.total));
    if (err !== undefined) return err;
    tail(2, String(cum));
    if (om) return undefined; // `_min`/`_max`/`_ssd` are not OpenMetrics histogram samples (README)
    tail(3, renderNumber(h.min));
    tail(4, renderNumber(h.max));
    tail(5, renderNumber(h.sumOfSquaredDeviations));
    this.byte(NL);
    return undefined;
  }
}

/**
 * Series name -> histogram family for every family `isHistogram` says has a histogram point;
 * a family named like one of these would split that histogram in the text (promtool
 * rejects it), so it is skipped whole. Undefined when there is no histogram.
 */
export function histogramSeriesOf(
  names: readonly string[],
  isHistogram: (name: string) => boolean,
): Map<string, string> | undefined {
  let series: Map<string, string> | undefined;
  for (const name of names) {
    if (!isHistogram(name)) continue;
    series ??= new Map();
    for (const suffix of HISTOGRAM_SUFFIXES) series.set(name + suffix, name);
  }
  return series;
}

/**
 * OpenMetrics family names (a counter's without its `_total`), in name order; a family
 * whose family name or sample names are already owned by an earlier one is skipped
 * whole (OpenMetrics forbids a name in two families). Once per call, O(families).
 */
export function openMetricsFamilies(
  names: readonly string[],
  firstType: (name: string) => number,
  histogramSeries: Map<string, string> | undefined,
  skipFamily: (name: string, reason: string) => void,
): Map<string, string> {
  const out = new Map<string, string>();
  const owner = new Map<string, string>(); // family and sample names -> full name owning them
  for (const name of names) {
    if (histogramSeries?.has(name)) continue; // skipped (and reported) by beginFamily in both formats
    const type = firstType(name);
    const family = type === COUNTER && name.endsWith('_total') && name.length > 6 ? name.slice(0, -6) : name;
    const claims = [family, ...OM_SUFFIXES[type]!.map((suffix) => family + suffix)];
    const clash = claims.find((c) => owner.has(c));
    if (clash !== undefined) {
      const reason = `OpenMetrics name ${JSON.stringify(clash)} is already used by metric ${JSON.stringify(owner.get(clash))}`;
      skipFamily(name, reason);
      continue;
    }
    for (const c of claims) owner.set(c, name);
    out.set(name, family);
  }
  return out;
}

/**
 * Picks the extra label key with the most distinct values across snapshots (the
 * server's `sandbox`) and numbers its values; snapshots sharing a value share an id.
 * Returns the number of ids. Once per call, O(extra labels).
 */
export function assignSeparators(infos: readonly SeparatorInfo[]): number {
  const valuesByKey = new Map<string, Set<string>>();
  for (const info of infos) {
    for (const k of info.extraKeys) {
      let set = valuesByKey.get(k);
      if (set === undefined) {
        set = new Set();
        valuesByKey.set(k, set);
      }
      set.add(info.extraLabels[k]!);
    }
  }
  let best: string | undefined;
  let bestCount = 0;
  for (const [k, values] of valuesByKey) {
    if (values.size > bestCount) {
      best = k;
      bestCount = values.size;
    }
  }
  if (best === undefined) return 0;
  const ids = new Map<string, number>();
  for (const info of infos) {
    if (!Object.hasOwn(info.extraLabels, best)) continue;
    const v = info.extraLabels[best]!;
    let id = ids.get(v);
    if (id === undefined) {
      id = ids.size;
      ids.set(v, id);
    }
    info.separatorId = id;
  }
  return ids.size;
}
