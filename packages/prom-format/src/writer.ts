// The Prometheus text (0.0.4) exposition writer, in runsc metric-server's shape
// (prometheus.md §4), with the Go writer's defects fixed (see README "Differences").
//
// Hot path (per sample, ~170 x 1000 per scrape): bytes go straight into one reused
// Buffer, short ASCII (names are ASCII by validation) by a byte loop, UTF-8 only when
// a value needs it; per-snapshot pieces (timestamp suffix, encoded extra labels) are
// built once per call; the family-order pass reads compact per-family columns filled
// by the grouping pass; a histogram's labels are rendered once and copied per line.
// No string is built per sample except for dedupe keys where collisions are possible.
import type { Writable } from 'node:stream';
import { escapeComment, escapeHelp, escapeLabelValue, escapeOpenMetricsHelp } from './escape.js';
import type { Data, Int64, Labels, Snapshot, Timestamp } from './model.js';
import { isValidLabelName, isValidMetricName } from './names.js';
import { numberToFloat, renderNumber } from './number.js';
import { formatGoTime, timestampMillis } from './time.js';

/** One snapshot to render with the prefix and the server-decided labels of its source. */
export interface SnapshotExport {
  readonly snapshot: Snapshot;
  /** Prepended to every metric name of this snapshot. */
  readonly exporterPrefix: string;
  /** Added to every line; they win over a same-named label sent in the snapshot. */
  readonly extraLabels: Labels;
}

/** A data point the writer refused; nothing of it was written. */
export interface SkippedData {
  /** Index into the `snapshots` argument. */
  readonly snapshotIndex: number;
  /** The full (prefixed) metric name. */
  readonly metric: string;
  readonly reason: string;
}

export interface ExportOptions {
  /** Written first as `# <line>` per `\n`-separated piece. */
  commentHeader?: string;
  /**
   * Full (prefixed) names whose HELP/TYPE preamble is already out; updated in place.
   * Pass a fresh set per scrape (or none).
   */
  metricsWritten?: Set<string>;
  /** Told about every data point skipped whole (invalid name/label, unknown or conflicting type, duplicate). */
  onSkip?: (skip: SkippedData) => void;
  /**
   * `prometheus` (default): text format 0.0.4, runsc's shape. `openmetrics`: OpenMetrics 1.0.0
   * (no comment lines but HELP/TYPE, counters sampled as `<family>_total`, timestamps in
   * seconds, histograms without `_min`/`_max`/`_ssd`, `# EOF`); `commentHeader` is ignored.
   */
  format?: ExpositionFormat;
}

export type ExpositionFormat = 'prometheus' | 'openmetrics';

/** A chunk callback; the Buffer it gets is its own (a copy). */
export type ChunkSink = (chunk: Buffer) => void;
export type ExpositionSink = Writable | ChunkSink;

/** The sink was closed or failed before all output was handed over. */
export class SinkClosedError extends Error {
  override readonly name = 'SinkClosedError';
}

const FLUSH_BYTES = 32 * 1024;
const INITIAL_BYTES = 64 * 1024;
const MAX_KEPT_BYTES = 1024 * 1024;
const TYPE_NAMES = ['untyped', 'gauge', 'counter', 'histogram'];
const OM_TYPE_NAMES = ['unknown', 'gauge', 'counter', 'histogram'];
const COUNTER = 2;
/** Sample names an OpenMetrics family of each type owns besides (or instead of) its own name. */
const OM_SUFFIXES: readonly (readonly string[])[] = [[''], [''], ['_total', '_created'], ['_bucket', '_sum', '_count', '_created']];
const HISTOGRAM = 3;
const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count', '_min', '_max', '_ssd'];
const NL = 0x0a;
const EMPTY_LABELS: Labels = Object.freeze({});
const DUPLICATE = 'duplicate series (same name and labels already written)';
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Per-snapshot pieces computed once per call. */
interface SnapInfo {
  readonly tsSuffix: Uint8Array; // ` <ms>\n`, encoded once
  readonly extraKeys: readonly string[]; // sorted byte-wise (`le` is held back while merging)
  readonly extraVals: readonly string[]; // raw
  readonly extraPairs: readonly Uint8Array[]; // `key="escaped value"` as UTF-8, encoded once
  readonly extraTails: readonly Uint8Array[]; // pairs b.. joined by `,`
  readonly extraTailPlain: Uint8Array; // 1 when pairs b.. hold no `le` (which must go last)
  readonly extraLabels: Labels;
  readonly invalid: string | undefined; // why every data point of it is skipped
  separatorId: number; // id of its value for the separating label key, -1 if it has none
}

/** State of one chunks() call, built by prepare(). */
interface RenderContext {
  readonly infos: SnapInfo[];
  readonly families: Map<string, Family>;
  readonly names: string[];
  readonly histogramSeries: Map<string, string> | undefined;
  readonly skip: (snapshotIndex: number, metric: string, reason: string) => void;
  readonly written: Set<string>;
  readonly stamps: Int32Array; // per separator id: the family stamp that last saw it
  stamp: number;
  readonly seen: Set<string>; // rendered label sets of the current family (dedupe), reused
  readonly om: boolean;
  /** OpenMetrics only: full name -> family name (a counter's `_total` dropped). */
  readonly omFamily: Map<string, string> | undefined;
}

/** How the family being written stands. */
interface FamilyState {
  /** The full name: sample name of gauges and untyped, base of histogram series. */
  readonly name: string;
  /** Name in HELP/TYPE (OpenMetrics: a counter's without `_total`). */
  readonly familyName: string;
  /** Name on a counter's sample lines (OpenMetrics: `<family>_total`). */
  readonly counterName: string;
  readonly dedupeAll: boolean;
  familyType: number;
  preambleDue: boolean;
  histNames: string[] | undefined;
}

/** All data points of one full name, in snapshot order then data order. */
interface Family {
  readonly snaps: number[];
  readonly datas: Data[];
  // Columns filled by the grouping pass, which reads each snapshot's points in memory
  // order; the family-order pass then reads these instead of chasing every Data's
  // pointers again (cache misses dominated with 100k points).
  readonly types: number[];
  readonly labelKey: (string | null)[]; // the only label's key, null for none, MANY otherwise
  readonly labelValue: string[]; // the only label's value ('' otherwise)
  readonly values: number[]; // a safe-integer value (zero included), NaN when the slow path must render it
}

function newFamily(): Family {
  return { snaps: [], datas: [], types: [], labelKey: [], labelValue: [], values: [] };
}

function pushPoint(fam: Family, si: number, d: Data): void {
  const n = d.number;
  fam.snaps.push(si);
  fam.datas.push(d);
  fam.types.push(d.metric.type);
  const labels = d.labels;
  let key: string | null = null;
  let value = '';
  for (const k in labels) {
    if (key !== null) {
      key = MANY;
      break;
    }
    key = k;
    value = labels[k]!;
  }
  fam.labelKey.push(key);
  fam.labelValue.push(key === MANY ? '' : value);
  fam.values.push(n !== undefined && typeof n.int === 'number' && (n.int !== 0 || n.float === 0) ? n.int : NaN);
}

function copyPoint(to: Family, from: Family, i: number): void {
  to.snaps.push(from.snaps[i]!);
  to.datas.push(from.datas[i]!);
  to.types.push(from.types[i]!);
  to.labelKey.push(from.labelKey[i]!);
  to.labelValue.push(from.labelValue[i]!);
  to.values.push(from.values[i]!);
}

/** Label-name check shared by both label paths; undefined when fine. */
function checkLabelName(k: string, histogram: boolean): string | undefined {
  if (!isValidLabelName(k)) return `invalid label name ${JSON.stringify(k)}: must match [a-zA-Z_][a-zA-Z0-9_]* and not start with "__"`;
  if (k === 'le' && histogram) return 'a histogram point cannot carry its own "le" label';
  return undefined;
}

/** Column marker: the point has several labels (or one named like this marker), read the object. */
const MANY = '\u0000several labels';

/** Interleaves two groups by snapshot index (stable: data order kept within a snapshot). */
function mergeFamilies(a: Family, b: Family): Family {
  const out = newFamily();
  let i = 0;
  let j = 0;
  while (i < a.snaps.length || j < b.snaps.length) {
    if (j >= b.snaps.length || (i < a.snaps.length && a.snaps[i]! <= b.snaps[j]!)) copyPoint(out, a, i++);
    else copyPoint(out, b, j++);
  }
  return out;
}

function addCount(a: Int64, b: Int64): Int64 {
  if (typeof a === 'number' && typeof b === 'number') {
    const s = a + b;
    if (s <= MAX_SAFE) return s;
  }
  return BigInt(a) + BigInt(b);
}

export class ExpositionWriter {
  // Owned by the call that runs `chunks()`; `tail` serialises write() calls so two
  // never share the buffer, and renderToString uses a private writer while one runs.
  private buf: Buffer = Buffer.allocUnsafe(INITIAL_BYTES);
  private pos = 0;
  private busy = false;
  private tail: Promise<unknown> = Promise.resolve();

  /**
   * Streams the exposition of `snapshots` into `sink` and resolves with the byte
   * count. A Writable's backpressure is honoured ('drain' is awaited). Rejects only
   * for sink failures; bad data points are skipped and reported via `onSkip`.
   */
  write(sink: ExpositionSink, options: ExportOptions, snapshots: readonly SnapshotExport[]): Promise<number> {
    const run = this.tail.then(() => this.writeNow(sink, options, snapshots));
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** The whole exposition as a string (tests, small outputs). */
  renderToString(options: ExportOptions, snapshots: readonly SnapshotExport[]): string {
    if (this.busy) return new ExpositionWriter().renderToString(options, snapshots);
    let out = '';
    this.busy = true;
    try {
      // Chunks end on a line boundary, so no UTF-8 sequence is split.
      for (const chunk of this.chunks(options, snapshots)) out += chunk.toString('utf8');
    } finally {
      this.busy = false;
    }
    return out;
  }

  private async writeNow(sink: ExpositionSink, options: ExportOptions, snapshots: readonly SnapshotExport[]): Promise<number> {
    this.busy = true;
    let total = 0;
    try {
      for (const chunk of this.chunks(options, snapshots)) {
        // The sink keeps the chunk and the buffer is reused: copy out (memcpy; Buffer.from
        // of a Uint8Array would copy element by element).
        const copy = Buffer.allocUnsafe(chunk.length);
        chunk.copy(copy);
        total += copy.length;
        if (typeof sink === 'function') sink(copy);
        else await writeToStream(sink, copy);
      }
    } finally {
      this.busy = false;
    }
    return total;
  }

  // ---- buffer primitives ----

  private ensure(n: number): void {
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
  private ascii(s: string): void {
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

  private utf8(s: string): void {
    this.ensure(s.length * 3); // at most 3 bytes per UTF-16 unit
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /**
   * A label value, escaped, as UTF-8. Fast path: one loop that copies plain ASCII and
   * bails out on the first byte needing care (non-ASCII, quote, backslash, newline).
   */
  private labelValue(s: string): void {
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
  private bytes(src: Uint8Array): void {
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

  /** A safe integer written digit by digit, without a string. */
  private integer(v: number): void {
    this.ensure(17);
    const buf = this.buf;
    let x = v;
    if (x < 0) {
      buf[this.pos++] = 0x2d;
      x = -x;
    }
    let digits = 1;
    for (let t = x; t >= 10; t = Math.floor(t / 10)) digits++;
    let p = this.pos + digits;
    this.pos = p;
    do {
      const q = Math.floor(x / 10);
      buf[--p] = 0x30 + (x - q * 10);
      x = q;
    } while (x > 0);
  }


  private byte(c: number): void {
    this.ensure(1);
    this.buf[this.pos++] = c;
  }

  private copyOwn(start: number, end: number): void {
    this.ensure(end - start);
    this.pos += this.buf.copy(this.buf, this.pos, start, end);
  }

  // ---- rendering ----

  /** Yields views of the buffer (valid until the next step) of >= 32 KiB, then the rest. */
  private *chunks(options: ExportOptions, snapshots: readonly SnapshotExport[]): Generator<Buffer, void, void> {
    // The generator only drives; the work is in plain methods V8 optimises well.
    this.pos = 0;
    if (snapshots.length === 0) {
      // OpenMetrics: an exposition always ends with `# EOF`, even an empty one.
      if (options.format === 'openmetrics') yield Buffer.from('# EOF\n', 'latin1');
      return;
    }
    const ctx = this.prepare(options, snapshots);
    for (const name of ctx.names) {
      const fam = ctx.families.get(name)!;
      const st = this.beginFamily(ctx, name, fam);
      if (st === undefined) continue;
      let i = 0;
      while (i < fam.datas.length) {
        i = this.writeEntries(ctx, st, fam, i);
        if (this.pos >= FLUSH_BYTES) {
          yield this.buf.subarray(0, this.pos);
          this.pos = 0;
        }
      }
    }
    this.ascii(ctx.om ? '# EOF\n' : '\n# End of metric data.\n');
    yield this.buf.subarray(0, this.pos);
    this.pos = 0;
    // One huge data point (a hostile label value) must not pin a huge buffer between scrapes.
    if (this.buf.length > MAX_KEPT_BYTES) this.buf = Buffer.allocUnsafe(INITIAL_BYTES);
  }

  /** Header, per-snapshot pieces, and the data points grouped by full name. */
  private prepare(options: ExportOptions, snapshots: readonly SnapshotExport[]): RenderContext {
    const onSkip = options.onSkip;
    const skip = (snapshotIndex: number, metric: string, reason: string): void => {
      onSkip?.({ snapshotIndex, metric, reason });
    };
    const om = options.format === 'openmetrics';
    if (!om) this.writeHeader(options.commentHeader ?? '', snapshots);
    const infos = snapshots.map((s) => snapInfo(s, om));
    const separatorValues = assignSeparators(infos);

    // Group data points by (prefix, name) first: one Map lookup per point, no string
    // building; full names are made once per group below.
    const byPrefix = new Map<string, Map<string, Family>>();
    for (let si = 0; si < snapshots.length; si++) {
      const { snapshot, exporterPrefix } = snapshots[si]!;
      let groups = byPrefix.get(exporterPrefix);
      if (groups === undefined) {
        groups = new Map();
        byPrefix.set(exporterPrefix, groups);
      }
      const data = snapshot.data;
      for (let di = 0; di < data.length; di++) {
        const d = data[di]!;
        let fam = groups.get(d.metric.name);
        if (fam === undefined) {
          fam = newFamily();
          groups.set(d.metric.name, fam);
        }
        pushPoint(fam, si, d);
      }
    }
    // Full name -> points (snapshot order, then data order), also when two prefixes meet.
    const families = new Map<string, Family>();
    for (const [prefix, groups] of byPrefix) {
      for (const [name, fam] of groups) {
        const full = prefix + name;
        if (!isValidMetricName(full)) {
          for (const si of fam.snaps) skip(si, full, `invalid metric name ${JSON.stringify(full)}: must match [a-zA-Z_:][a-zA-Z0-9_:]*`);
          continue;
        }
        const other = families.get(full);
        families.set(full, other === undefined ? fam : mergeFamilies(other, fam));
      }
    }
    // Valid names are ASCII, so UTF-16 order is byte order.
    const names = [...families.keys()].sort();

    // Series names a histogram family emits; a family with one of these names would
    // split that family in the text (promtool rejects it), so it is skipped.
    let histogramSeries: Map<string, string> | undefined;
    for (const name of names) {
      if (families.get(name)!.types.includes(HISTOGRAM)) {
        histogramSeries ??= new Map();
        for (const suffix of HISTOGRAM_SUFFIXES) histogramSeries.set(name + suffix, name);
      }
    }
    return {
      om,
      omFamily: om ? openMetricsFamilies(names, families, histogramSeries, skip) : undefined,
      infos,
      families,
      names,
      histogramSeries,
      skip,
      written: options.metricsWritten ?? new Set<string>(),
      stamps: new Int32Array(separatorValues),
      stamp: 0,
      seen: new Set<string>(),
    };
  }

  /** Decides how a family is written; undefined when it is skipped whole. */
  private beginFamily(ctx: RenderContext, name: string, fam: Family): FamilyState | undefined {
    const owner = ctx.histogramSeries?.get(name);
    if (owner !== undefined) {
      for (let i = 0; i < fam.datas.length; i++) {
        ctx.skip(fam.snaps[i]!, name, `name collides with the ${JSON.stringify(name)} series of histogram ${JSON.stringify(owner)}`);
      }
      return undefined;
    }
    // Duplicate series: across snapshots impossible when every contributor has the
    // separating extra label with its own value (server: `sandbox`); otherwise, and
    // within one snapshot, compare the rendered label sets (only then a string per point).
    const stamps = ctx.stamps;
    const stamp = ++ctx.stamp;
    let separated = true;
    let lastSnap = -1;
    for (let i = 0; i < fam.snaps.length && separated; i++) {
      const si = fam.snaps[i]!;
      if (si === lastSnap) continue;
      lastSnap = si;
      const id = ctx.infos[si]!.separatorId;
      if (id < 0 || stamps[id] === stamp) separated = false;
      else stamps[id] = stamp;
    }
    ctx.seen.clear();
    let familyName = name;
    let counterName = name;
    if (ctx.omFamily !== undefined) {
      const f = ctx.omFamily.get(name);
      if (f === undefined) return undefined; // skipped by openMetricsFamilies (already reported)
      familyName = f;
      counterName = `${f}_total`;
    }
    return {
      name,
      familyName,
      counterName,
      dedupeAll: !separated && fam.datas.length > 1,
      familyType: -1,
      preambleDue: !ctx.written.has(name),
      histNames: undefined,
    };
  }

  /** Writes data points from index `i` until the buffer is due for a flush; returns the next index. */
  private writeEntries(ctx: RenderContext, st: FamilyState, fam: Family, i: number): number {
    const { snaps, datas, types, labelKey, labelValue, values } = fam;
    const name = st.name;
    const seen = ctx.seen;
    for (; i < datas.length; i++) {
      const si = snaps[i]!;
      const info = ctx.infos[si]!;
      if (info.invalid !== undefined) {
        ctx.skip(si, name, info.invalid);
        continue;
      }
      const type = types[i]!;
      if (!(type === 0 || type === 1 || type === 2 || type === 3)) {
        ctx.skip(si, name, `unknown metric type ${String(type)}`);
        continue;
      }
      if (st.familyType !== -1 && type !== st.familyType) {
        ctx.skip(si, name, `metric type ${TYPE_NAMES[type]!} conflicts with ${TYPE_NAMES[st.familyType]!} already written for this name`);
        continue;
      }
      // Within-snapshot duplicates are possible only when this snapshot has several points here.
      const sameSnapRun = (i > 0 && snaps[i - 1] === si) || (i + 1 < snaps.length && snaps[i + 1] === si);
      if (!st.dedupeAll && sameSnapRun && (i === 0 || snaps[i - 1] !== si)) seen.clear();
      const dedupe = st.dedupeAll || sameSnapRun ? seen : undefined;

      const start = this.pos;
      let result: string | undefined;
      if (type === HISTOGRAM) {
        st.histNames ??= HISTOGRAM_SUFFIXES.map((s) => name + s);
        result = this.writeHistogram(st, datas[i]!, info, dedupe, ctx.om);
      } else {
        const sampleName = type === COUNTER ? st.counterName : name;
        result = this.writeSample(st, sampleName, datas[i]!, labelKey[i]!, labelValue[i]!, values[i]!, info, dedupe, ctx.om);
      }
      if (result !== undefined) {
        this.pos = start; // nothing partial: roll the whole data point back
        ctx.skip(si, name, result);
        continue;
      }
      if (st.preambleDue) {
        ctx.written.add(name);
        st.preambleDue = false;
      }
      st.familyType = type;
      if (this.pos >= FLUSH_BYTES) return i + 1;
    }
    return i;
  }

  private writeHeader(commentHeader: string, snapshots: readonly SnapshotExport[]): void {
    if (commentHeader !== '') {
      for (const line of commentHeader.split('\n')) {
        this.utf8('# ');
        this.utf8(line);
        this.byte(NL);
      }
    }
    if (snapshots.length === 1) {
      const s = snapshots[0]!.snapshot;
      this.utf8(`# Writing data from snapshot containing ${s.data.length} data points taken at ${formatGoTime(s.when)}.\n`);
    } else {
      this.utf8(`# Writing data from ${snapshots.length} snapshots:\n`);
      for (const { snapshot, extraLabels } of snapshots) {
        const keys = Object.keys(extraLabels).sort();
        const map = keys.map((k) => `${k}:${extraLabels[k]!}`).join(' ');
        this.utf8(
          escapeComment(`#   - Snapshot with ${snapshot.data.length} data points taken at ${formatGoTime(snapshot.when)}: map[${map}]`),
        );
        this.byte(NL);
      }
    }
    this.byte(NL);
  }

  private preamble(name: string, d: Data, om: boolean): void {
    if (!om) this.byte(NL); // OpenMetrics allows no blank line
    const help = d.metric.help;
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
    this.ascii((om ? OM_TYPE_NAMES : TYPE_NAMES)[d.metric.type]!);
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
  private writeLabelPairs(labels: Labels, single: string | null, singleValue: string, info: SnapInfo, histogram: boolean): string | undefined {
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
    if (keys !== undefined) keys.sort(); // ASCII (validated): UTF-16 order is byte order
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

  private readonly oneKeyArray: string[] = [''];
  /** A reused one-element array (no allocation for the single-label case). */
  private oneKey(k: string): string[] {
    this.oneKeyArray[0] = k;
    return this.oneKeyArray;
  }

  private pair(first: boolean, key: string, value: string): void {
    this.ensure(3);
    if (!first) this.buf[this.pos++] = 0x2c;
    this.ascii(key);
    this.buf[this.pos++] = 0x3d; // '=' (room ensured above)
    this.buf[this.pos++] = 0x22;
    this.labelValue(value);
    this.byte(0x22);
  }

  /** Label section `{…}` (or nothing); returns the start of its content (end = pos - 1 or pos), or an error. */
  private writeLabelSection(d: Data, single: string | null, singleValue: string, info: SnapInfo): number | string {
    this.byte(0x7b);
    const cs = this.pos;
    // `d.labels` is read only when the point has several labels (MANY).
    const err = this.writeLabelPairs(single === MANY ? d.labels : EMPTY_LABELS, single, singleValue, info, false);
    if (err !== undefined) return err;
    if (this.pos === cs) this.pos--; // no labels: no braces
    else this.byte(0x7d);
    return cs;
  }

  private isDuplicate(seen: Set<string> | undefined, cs: number, ce: number): boolean {
    if (seen === undefined) return false;
    const key = this.buf.toString('latin1', cs, ce); // latin1 maps bytes 1:1, so equal keys = equal bytes
    if (seen.has(key)) return true;
    seen.add(key);
    return false;
  }

  /** One sample line; `d` itself is read only for the preamble and non-integer values. */
  private writeSample(
    st: FamilyState,
    name: string,
    d: Data,
    single: string | null,
    singleValue: string,
    value: number,
    info: SnapInfo,
    seen: Set<string> | undefined,
    om: boolean,
  ): string | undefined {
    const slow = value !== value ? d.number : undefined; // NaN: float, bigint or no value
    if (value !== value && slow === undefined) return 'no value for a gauge, counter or untyped metric';
    if (st.preambleDue) this.preamble(st.familyName, d, om);
    this.ascii(name);
    const cs = this.writeLabelSection(d, single, singleValue, info);
    if (typeof cs === 'string') return cs;
    if (seen !== undefined && this.isDuplicate(seen, cs, cs < this.pos ? this.pos - 1 : cs)) {
      return DUPLICATE;
    }
    this.byte(0x20);
    if (slow === undefined) this.integer(value);
    else this.ascii(renderNumber(slow));
    this.bytes(info.tsSuffix);
    return undefined;
  }

  private writeHistogram(st: FamilyState, d: Data, info: SnapInfo, seen: Set<string> | undefined, om: boolean): string | undefined {
    const names = st.histNames!;
    const h = d.histogramValue;
    if (h === undefined) return 'no histogram value for a histogram metric';
    if (!om) this.byte(NL);
    if (st.preambleDue) this.preamble(st.familyName, d, om);
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
      if (ce === cs) this.pos--; // drop the `{` of an empty label set
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

function snapInfo(s: SnapshotExport, om: boolean): SnapInfo {
  const extra = s.extraLabels;
  const keys = Object.keys(extra);
  let invalid: string | undefined;
  for (const k of keys) {
    if (!isValidLabelName(k)) {
      invalid = `invalid extra label name ${JSON.stringify(k)}: must match [a-zA-Z_][a-zA-Z0-9_]* and not start with "__"`;
      break;
    }
  }
  keys.sort();
  return {
    tsSuffix: Buffer.from(` ${om ? timestampSecondsText(s.snapshot.when) : timestampMillis(s.snapshot.when)}\n`, 'latin1'),
    extraKeys: keys,
    extraVals: keys.map((k) => extra[k]!),
    extraPairs: keys.map((k) => Buffer.from(`${k}="${escapeLabelValue(extra[k]!)}"`, 'utf8')),
    extraTails: keys.map((_, b) => Buffer.from(keys.slice(b).map((k) => `${k}="${escapeLabelValue(extra[k]!)}"`).join(','), 'utf8')),
    extraTailPlain: Uint8Array.from(keys, (_, b) => (keys.slice(b).includes('le') ? 0 : 1)),
    extraLabels: extra,
    invalid,
    separatorId: -1,
  };
}

/** OpenMetrics timestamps are seconds: the same millisecond precision as 0.0.4, as a decimal. */
function timestampSecondsText(ts: Timestamp): string {
  const ms = timestampMillis(ts);
  const sec = Math.floor(ms / 1000);
  const frac = ms - sec * 1000;
  return frac === 0 ? String(sec) : `${sec}.${String(frac).padStart(3, '0')}`;
}

/**
 * OpenMetrics family names (a counter's without its `_total`), in name order; a family
 * whose family name or sample names are already owned by an earlier one is skipped
 * whole (OpenMetrics forbids a name in two families). Once per call, O(families).
 */
function openMetricsFamilies(
  names: readonly string[],
  families: Map<string, Family>,
  histogramSeries: Map<string, string> | undefined,
  skip: (snapshotIndex: number, metric: string, reason: string) => void,
): Map<string, string> {
  const out = new Map<string, string>();
  const owner = new Map<string, string>(); // family and sample names -> full name owning them
  for (const name of names) {
    if (histogramSeries?.has(name)) continue; // skipped (and reported) by beginFamily in both formats
    const fam = families.get(name)!;
    const type = fam.types.find((t) => t === 0 || t === 1 || t === 2 || t === 3) ?? 0;
    const family = type === COUNTER && name.endsWith('_total') && name.length > 6 ? name.slice(0, -6) : name;
    const claims = [family, ...OM_SUFFIXES[type]!.map((suffix) => family + suffix)];
    const clash = claims.find((c) => owner.has(c));
    if (clash !== undefined) {
      const reason = `OpenMetrics name ${JSON.stringify(clash)} is already used by metric ${JSON.stringify(owner.get(clash))}`;
      for (const si of fam.snaps) skip(si, name, reason);
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
function assignSeparators(infos: SnapInfo[]): number {
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

/** Writes one chunk, waiting for 'drain' when the stream asks for it. */
function writeToStream(sink: Writable, chunk: Buffer): Promise<void> | void {
  if (sink.destroyed || sink.writableEnded) throw new SinkClosedError('the output stream was closed before the exposition was complete');
  if (sink.write(chunk)) return;
  return new Promise<void>((resolve, reject) => {
    const done = (err?: Error): void => {
      sink.off('drain', onDrain);
      sink.off('error', onError);
      sink.off('close', onClose);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onDrain = (): void => done();
    const onError = (err: Error): void => done(err);
    const onClose = (): void => done(new SinkClosedError('the output stream closed while waiting for it to drain'));
    sink.on('drain', onDrain);
    sink.on('error', onError);
    sink.on('close', onClose);
  });
}
