// A fast path for the one encoding real sandboxes send: the `Metrics.Export`
// reply exactly as Go's encoding/json writes it (compact, fixed key order,
// omitempty), for metrics a dictionary knows. It reads the reply's bytes once and
// writes DecodedPoints: per point the Metric and Labels objects shared from the
// dictionary and an int (no JSON tree, no per-point strings or objects).
//
// It accepts a strict subset of JSON and answers `undefined` for anything else
// (whitespace, other key order, escapes it does not expect, floats, histograms,
// unknown metrics or label values, malformed bytes...). The caller then takes the
// general path (parseJson + decodeExportResult), which is the single source of
// truth for what a reply means and for every error message. For every input the
// fast path accepts, its result deep-equals the general path's (a property test
// holds the two together).
//
// It works on the reply's bytes and allocates only the snapshot's columns: a latin1
// string of each reply plus slices for `===` compares was as fast, but made ~6x the
// garbage of one Data and one WireNumber per point (measured: ~44 MB against ~7 MB per
// 1000 replies), and garbage is what a scrape's GC time and RSS follow. Long compares
// use the native Buffer.compare; short literals a byte loop. Nothing is guessed from a
// sandbox's last reply: runsc draws a new entry order on every export.
import {
  type Data,
  type Labels,
  type Metric,
  NO_LABELS,
  type Snapshot,
  type SnapshotPoints,
  type Timestamp,
} from './model.js';
import { intNumber } from './number.js';
import { parseRfc3339, TimestampError } from './time.js';

/** A metric the fast path may meet: its exact definition and, when it has one, its only field. */
export interface KnownMetric {
  /** Every decoded point of this metric has it as its `metric`: this very object when frozen, else a frozen copy. */
  readonly metric: Metric;
  /** The metric's only field and its allowed values; absent for a metric without fields. */
  readonly field?: { readonly name: string; readonly allowedValues: readonly string[] };
}

/** `bytes`: the canonical `{"name":…,"type":…,"help":…}`; its key is the name between its quotes. */
interface MetricEntry extends ByteEntry {
  /** Shared by every point of this metric (callers only read it). */
  readonly metric: Metric;
  /** `,"labels":{"<field>":"` for a metric with one field; null for one without. */
  readonly labelsHead: Buffer | null;
  /** Allowed values by their bytes between the quotes; null for a metric without fields. */
  readonly values: ByteTable<LabelValue> | null;
}

const QUOTE = 0x22;
const MINUS = 0x2d;
const ZERO_DIGIT = 0x30;
const NINE_DIGIT = 0x39;
const COMMA = 0x2c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
/** Digits of the longest integer taken here: 15 digits are always below 2^53. */
const MAX_INT_DIGITS = 15;

const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');
/** The success envelope exactly as runsc's urpc server writes it, up to the result. */
const SUCCESS_HEAD = ascii('{"success":true,"err":"","result":');
const SNAPSHOT_HEAD = ascii('{"snapshot":{"when":"');
const DATA_HEAD = ascii(',"data":');
const DATA_NULL = ascii('null}}');
const POINT_HEAD = ascii('{"metric":{"name":"');
/** Where the name starts in a metric's encoded text. */
const NAME_AT = '{"name":"'.length;
const VAL_HEAD = ascii(',"val":{');
const INT_HEAD = ascii('"int":');

/** Go's encoding/json string form: JSON.stringify plus its HTML-safe escapes of <, >, & and U+2028/U+2029. */
export function goJsonString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a over bytes[start, end). */
function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = FNV_OFFSET;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, FNV_PRIME);
  return h >>> 0;
}

/** An entry of a ByteTable: the bytes that must stand at the match position, and how many of them are the key. */
interface ByteEntry {
  readonly bytes: Buffer;
  readonly keyLength: number;
}

/** Entries by the hash of their key's bytes; a lookup confirms one with one native compare. */
class ByteTable<T extends ByteEntry> {
  private readonly byHash = new Map<number, T[]>();

  /** `entry.bytes[keyAt, keyAt + entry.keyLength)` is its key. */
  add(entry: T, keyAt: number): void {
    const h = hashBytes(entry.bytes, keyAt, keyAt + entry.keyLength);
    const bucket = this.byHash.get(h);
    if (bucket === undefined) this.byHash.set(h, [entry]);
    else bucket.push(entry);
  }

  /**
   * The entry whose key is bytes[keyStart, keyEnd) and whose whole `bytes` stand at `at`
   * (ending at or before `end`); undefined when none does.
   */
  find(bytes: Buffer, keyStart: number, keyEnd: number, at: number, end: number): T | undefined {
    const bucket = this.byHash.get(hashBytes(bytes, keyStart, keyEnd));
    if (bucket === undefined) return undefined;
    for (const e of bucket) {
      const n = e.bytes.length;
      if (e.keyLength === keyEnd - keyStart && at + n <= end && bytes.compare(e.bytes, 0, n, at, at + n) === 0)
        return e;
    }
    return undefined;
  }
}

interface LabelValue extends ByteEntry {
  readonly labels: Labels;
}

/** True when bytes[at, at + lit.length) is `lit` and ends at or before `end`. */
function matchAt(bytes: Uint8Array, at: number, end: number, lit: Uint8Array): boolean {
  const n = lit.length;
  if (at + n > end) return false;
  for (let i = 0; i < n; i++) if (bytes[at + i] !== lit[i]) return false;
  return true;
}

/**
 * The points of a canonical reply, as the decoder writes them: per point its definition
 * and labels (the decoder's shared, frozen objects) and its int value, 0 standing for an
 * omitted value (runsc never writes `"int":0`). Three array slots per point instead of a
 * Data and a WireNumber object (~88 bytes), which was most of what a scrape allocated.
 *
 * Owned by whoever hands it to the decoder, which overwrites it on every decode: the
 * server's reply step (server/src/reply.ts) keeps one and reads it to the end before the
 * next reply; `toSnapshot()` copies the points out for a caller that keeps them.
 */
export class DecodedPoints implements SnapshotPoints {
  when: Timestamp = { seconds: 0, nanos: 0 };
  length = 0;
  /** The decoder that wrote the current points (see SnapshotPoints.decoder). */
  decoder: CanonicalSnapshotDecoder | undefined;
  readonly metrics: Metric[] = [];
  readonly labels: Labels[] = [];
  readonly ints: number[] = [];
  /** What pointAt hands out, overwritten per call: no object per point. */
  private readonly point: { metric: Metric; labels: Labels; readonly number: { int: number; float: number } } = {
    metric: { name: '', type: 0, help: '' },
    labels: NO_LABELS,
    number: { int: 0, float: 0 },
  };

  /** Point `i`: its number is int-typed and safe (at most 15 digits), so a kept counter value is a JS number. */
  pointAt(i: number): Data {
    const p = this.point;
    p.metric = this.metrics[i]!;
    p.labels = this.labels[i]!;
    p.number.int = this.ints[i]!;
    return p;
  }

  /** The points as Data objects of their own, deep-equal to what the general path decodes. */
  toSnapshot(): Snapshot {
    const data: Data[] = [];
    for (let i = 0; i < this.length; i++) {
      data.push({ metric: this.metrics[i]!, labels: this.labels[i]!, number: intNumber(this.ints[i]!) });
    }
    return { when: this.when, data };
  }
}

/**
 * Decodes canonical `Metrics.Export` results (`{"snapshot":{"when":…,"data":[…]}}`)
 * of the metrics it was built with. Immutable after construction, so one decoder
 * serves every sandbox of a registration.
 */
export class CanonicalSnapshotDecoder {
  /** By the bytes of the metric's name between its quotes. */
  private readonly metrics = new ByteTable<MetricEntry>();
  /** The points of the decode running now (decodes are synchronous); null between decodes. */
  private into: DecodedPoints | null = null;

  constructor(known: Iterable<KnownMetric>) {
    for (const k of known) {
      const m = k.metric;
      const name = goJsonString(m.name);
      const text = `{"name":${name},"type":${String(m.type)},"help":${goJsonString(m.help)}}`;
      // Non-ASCII text is left to the general path: only for ASCII are latin1 bytes the UTF-8 ones.
      if (!isAscii(text)) continue;
      let labelsHead: Buffer | null = null;
      let values: ByteTable<LabelValue> | null = null;
      if (k.field !== undefined) {
        const fieldKey = goJsonString(k.field.name);
        if (!isAscii(fieldKey)) continue;
        labelsHead = ascii(`,"labels":{${fieldKey}:"`);
        values = new ByteTable<LabelValue>();
        for (const v of k.field.allowedValues) {
          const quoted = goJsonString(v);
          if (!isAscii(quoted)) continue;
          const bytes = ascii(quoted.slice(1, -1));
          const value: LabelValue = { bytes, keyLength: bytes.length, labels: Object.freeze({ [k.field.name]: v }) };
          values.add(value, 0);
        }
      }
      // A frozen metric is shared as given (a caller may recognise its own objects in the points).
      const metric: Metric = Object.isFrozen(m) ? m : Object.freeze({ name: m.name, type: m.type, help: m.help });
      const entry: MetricEntry = { bytes: ascii(text), keyLength: name.length - 2, metric, labelsHead, values };
      this.metrics.add(entry, NAME_AT);
    }
  }

  /**
   * The points of a whole successful urpc reply, bytes[0, length) (its trailing whitespace
   * left out), written into `into` and returned, when it is exactly
   * `{"success":true,"err":"","result":R}` with R a canonical result; `undefined` otherwise
   * (never throws; `into` then holds nothing usable).
   */
  decodeReply(bytes: Buffer, length: number, into: DecodedPoints): DecodedPoints | undefined {
    into.length = 0;
    into.decoder = undefined;
    const head = SUCCESS_HEAD.length;
    if (length <= head || length > bytes.length || bytes[length - 1] !== CLOSE_BRACE) return undefined;
    if (!matchAt(bytes, 0, length, SUCCESS_HEAD)) return undefined;
    return this.decodeResult(bytes, head, length - 1, into);
  }

  /**
   * The points in bytes[start, end), written into `into` and returned, when those bytes are
   * exactly a canonical result of known metrics; `undefined` otherwise (never throws).
   */
  decodeResult(bytes: Buffer, start: number, end: number, into: DecodedPoints): DecodedPoints | undefined {
    into.length = 0;
    into.decoder = undefined;
    this.into = into;
    try {
      const when = this.readResult(bytes, start, end);
      if (when === undefined) {
        into.length = 0;
        return undefined;
      }
      into.when = when;
      into.decoder = this;
      return into;
    } finally {
      this.into = null;
    }
  }

  /** The result's points into `this.into`; its `when`, or undefined when the bytes are not canonical. */
  private readResult(bytes: Buffer, start: number, end: number): Timestamp | undefined {
    if (end > bytes.length || !matchAt(bytes, start, end, SNAPSHOT_HEAD)) return undefined;
    let i = start + SNAPSHOT_HEAD.length;
    const whenEnd = bytes.indexOf(QUOTE, i);
    if (whenEnd < 0 || whenEnd >= end) return undefined;
    const when = readTimestamp(bytes, i, whenEnd);
    if (when === undefined) return undefined;
    i = whenEnd + 1;
    // runsc leaves `data` out when the snapshot has no points.
    if (i + 2 === end && bytes[i] === CLOSE_BRACE && bytes[i + 1] === CLOSE_BRACE) return when;
    if (!matchAt(bytes, i, end, DATA_HEAD)) return undefined;
    i += DATA_HEAD.length;
    if (i + DATA_NULL.length === end && matchAt(bytes, i, end, DATA_NULL)) return when;
    if (bytes[i] !== OPEN_BRACKET) return undefined;
    i++;
    if (bytes[i] === CLOSE_BRACKET) {
      i++;
    } else {
      for (;;) {
        i = this.point(bytes, i, end);
        if (i < 0 || i >= end) return undefined;
        const c = bytes[i];
        i++;
        if (c === COMMA) continue;
        if (c === CLOSE_BRACKET) break;
        return undefined;
      }
    }
    // `]` is followed by the snapshot's and the result's closing braces, and nothing else.
    if (i + 2 !== end || bytes[i] !== CLOSE_BRACE || bytes[i + 1] !== CLOSE_BRACE) return undefined;
    return when;
  }

  /** One `{"metric":…[,"labels":…],"val":{…}}` at `at`; pushes it and returns the offset after it, or -1. */
  private point(bytes: Buffer, at: number, end: number): number {
    if (!matchAt(bytes, at, end, POINT_HEAD)) return -1;
    const metricAt = at + POINT_HEAD.length - NAME_AT;
    // The whole definition, name included, byte for byte, found by the name's hash (an
    // escaped quote in the name only misses).
    const nameAt = metricAt + NAME_AT;
    const nameEnd = bytes.indexOf(QUOTE, nameAt);
    if (nameEnd < 0 || nameEnd >= end) return -1;
    const entry = this.metrics.find(bytes, nameAt, nameEnd, metricAt, end);
    if (entry === undefined) return -1;
    let i = metricAt + entry.bytes.length;

    let labels = NO_LABELS;
    const labelsHead = entry.labelsHead;
    if (labelsHead !== null) {
      if (!matchAt(bytes, i, end, labelsHead)) return -1;
      i += labelsHead.length;
      // The value's bytes, then its closing quote and brace.
      const valueEnd = bytes.indexOf(QUOTE, i);
      if (valueEnd < 0 || valueEnd + 1 >= end || bytes[valueEnd + 1] !== CLOSE_BRACE) return -1;
      const value = entry.values!.find(bytes, i, valueEnd, i, valueEnd);
      if (value === undefined) return -1;
      labels = value.labels;
      i += value.bytes.length + 2;
    }

    if (!matchAt(bytes, i, end, VAL_HEAD)) return -1;
    i += VAL_HEAD.length;
    let number: number;
    if (bytes[i] === CLOSE_BRACE) {
      number = 0; // ZERO
      i++;
    } else {
      if (!matchAt(bytes, i, end, INT_HEAD)) return -1;
      i += INT_HEAD.length;
      const negative = bytes[i] === MINUS;
      if (negative) i++;
      const first = bytes[i];
      // Go omits a zero int, so `0`, leading zeros and long literals are left to the general path.
      if (first === undefined || first <= ZERO_DIGIT || first > NINE_DIGIT) return -1;
      const digitsAt = i;
      let v = 0;
      for (; i < end; i++) {
        const d = bytes[i]!;
        if (d < ZERO_DIGIT || d > NINE_DIGIT) break;
        v = v * 10 + (d - ZERO_DIGIT);
      }
      if (i - digitsAt > MAX_INT_DIGITS || i >= end || bytes[i] !== CLOSE_BRACE) return -1;
      i++;
      number = negative ? -v : v;
    }
    if (i >= end || bytes[i] !== CLOSE_BRACE) return -1;
    // Written at k (not pushed): the columns are reused by every decode; `length` says how much is this one's.
    const into = this.into!;
    const k = into.length;
    into.metrics[k] = entry.metric;
    into.labels[k] = labels;
    into.ints[k] = number;
    into.length = k + 1;
    return i + 1;
  }
}

/**
 * The `when` string's bytes as a Timestamp; undefined to leave it to the general path.
 * RFC 3339 text is ASCII without escapes, so bytes with an escape or non-ASCII in them
 * simply fail the parse.
 */
function readTimestamp(bytes: Buffer, start: number, end: number): Timestamp | undefined {
  try {
    return parseRfc3339(bytes.toString('latin1', start, end));
  } catch (e) {
    if (e instanceof TimestampError) return undefined;
    throw e;
  }
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}
