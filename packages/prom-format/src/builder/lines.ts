// The lines of an exposition: sample lines, a histogram's lines, a family's HELP/TYPE
// preamble and the header comment. Each writes at the writer's position; where those
// bytes live (which family's buffer) is the builder's business.
import { escapeHelp, escapeOpenMetricsHelp } from '../escape.js';
import { type Data, type Int64, type Metric, MetricType, type WireNumber } from '../model.js';
import { numberToFloat, renderNumber } from '../number.js';
import { formatGoTime } from '../time.js';
import { type LabelKey, LabelWriter, MANY } from './label-section.js';
import { type HeaderEntry, headerLine, type SnapInfo } from './snapshot-pieces.js';

export const TYPE_NAMES: readonly string[] = ['untyped', 'gauge', 'counter', 'histogram'];
const OM_TYPE_NAMES: readonly string[] = ['unknown', 'gauge', 'counter', 'histogram'];
/** Series a histogram family writes under its name (0.0.4; OpenMetrics has the first three). */
export const HISTOGRAM_SUFFIXES: readonly string[] = ['_bucket', '_sum', '_count', '_min', '_max', '_ssd'];
export const DUPLICATE = 'duplicate series (same name and labels already written)';
const NL = 0x0a;

/** A type this exposition can write (gVisor's four); others are skipped. */
export function isKnownType(type: number): boolean {
  return (
    type === MetricType.Untyped ||
    type === MetricType.Gauge ||
    type === MetricType.Counter ||
    type === MetricType.Histogram
  );
}

/** A type written as one sample line per point (all but histogram). */
export function isSingleLineType(type: number): boolean {
  return type === MetricType.Untyped || type === MetricType.Gauge || type === MetricType.Counter;
}

/** A safe-integer value (zero included, not -0.0), else NaN: the value goes through renderNumber. */
export function fastIntValue(n: WireNumber | undefined): number {
  return n !== undefined && typeof n.int === 'number' && (n.int !== 0 || n.float === 0) ? n.int : NaN;
}

function addCount(a: Int64, b: Int64): Int64 {
  if (typeof a === 'number' && typeof b === 'number') {
    const s = a + b;
    if (s <= Number.MAX_SAFE_INTEGER) return s;
  }
  return BigInt(a) + BigInt(b);
}

export class LineWriter extends LabelWriter {
  /** Byte range of the last written point's label set (its dedupe key). */
  keyStart = 0;
  keyEnd = 0;

  /** True (and nothing added) when the key in [cs, ce) is in `seen`; else records it. */
  private isDuplicate(seen: Set<string> | undefined, cs: number, ce: number, known: string | undefined): boolean {
    if (seen === undefined) return false;
    const key = known ?? this.buf.toString('latin1', cs, ce); // latin1 maps bytes 1:1: equal keys, equal bytes
    if (seen.has(key)) return true;
    seen.add(key);
    return false;
  }

  /**
   * One sample line `<name>{<labels>} <value> <timestamp>`, or why the point is skipped.
   * `single`: singleLabelKey(d.labels), which the caller has already worked out.
   */
  writeSample(
    name: string,
    d: Data,
    single: LabelKey,
    info: SnapInfo,
    seen: Set<string> | undefined,
  ): string | undefined {
    const value = fastIntValue(d.number);
    const slow = Number.isNaN(value) ? d.number : undefined; // float, bigint or no value
    if (Number.isNaN(value) && slow === undefined) return 'no value for a gauge, counter or untyped metric';
    this.ascii(name);
    const cs = this.writeLabelSection(d, single, info);
    if (typeof cs === 'string') return cs;
    const ce = cs < this.pos ? this.pos - 1 : cs;
    this.keyStart = cs;
    this.keyEnd = ce;
    if (this.isDuplicate(seen, cs, ce, this.keyText)) return DUPLICATE;
    this.byte(0x20);
    if (slow === undefined) this.integer(value);
    else this.ascii(renderNumber(slow));
    this.bytes(info.tsSuffix);
    return undefined;
  }

  /**
   * A histogram point's lines: buckets (cumulative; OpenMetrics adds `+Inf` when missing),
   * `_sum`, `_count`, and in 0.0.4 `_min`, `_max`, `_ssd` between blank lines.
   * `names`: the family's series names (HISTOGRAM_SUFFIXES appended).
   */
  writeHistogram(
    names: readonly string[],
    d: Data,
    info: SnapInfo,
    seen: Set<string> | undefined,
    om: boolean,
  ): string | undefined {
    const h = d.histogramValue;
    if (h === undefined) return 'no histogram value for a histogram metric';
    // Bucket lines add their own `le`: a second one would make the text invalid.
    if (Object.hasOwn(info.extraLabels, 'le')) return 'an extra label "le" on a histogram, whose buckets own "le"';
    if (!om) this.byte(NL);
    // The label pairs are rendered once (on the first line) and copied for every other line.
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
      const err = this.writeLabelPairs(d.labels, MANY, info, true);
      if (err !== undefined) return err;
      ce = this.pos;
      this.keyStart = cs;
      this.keyEnd = ce;
      return this.isDuplicate(seen, cs, ce, undefined) ? DUPLICATE : undefined;
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
    for (const b of h.buckets) {
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

  /** The comment block before the first family (0.0.4 only): the caller's header, then one line per snapshot. */
  writeHeader(commentHeader: string, entries: readonly HeaderEntry[]): void {
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

  /** A family's `# HELP` (when it has help) and `# TYPE` lines; 0.0.4 puts a blank line first. */
  writePreamble(name: string, metric: Metric, om: boolean): void {
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
}
