// The Prometheus text (0.0.4) exposition writer, in runsc metric-server's shape
// (prometheus.md §4), with the Go writer's defects fixed (see README "Differences").
//
// Hot path (per sample, ~170 x 1000 per scrape): bytes go straight into one reused
// Buffer (latin1 writes for names that are ASCII by validation, utf8 for values);
// per-snapshot pieces (timestamp suffix, escaped extra labels) are built once per
// call; a histogram's label set is rendered once and copied for each of its lines.
import type { Writable } from 'node:stream';
import { escapeComment, escapeHelp, escapeLabelValue, labelValueNeedsEscape } from './escape.js';
import type { Data, Int64, Labels, Snapshot } from './model.js';
import { isValidLabelName, isValidMetricName } from './names.js';
import { renderNumber } from './number.js';
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
}

/** A chunk callback; the Buffer it gets is its own (a copy). */
export type ChunkSink = (chunk: Buffer) => void;
export type ExpositionSink = Writable | ChunkSink;

/** The sink was closed or failed before all output was handed over. */
export class SinkClosedError extends Error {
  override readonly name = 'SinkClosedError';
}

const FLUSH_BYTES = 32 * 1024;
const INITIAL_BYTES = 64 * 1024;
const NAME_CACHE_LIMIT = 50_000;
const TYPE_NAMES = ['untyped', 'gauge', 'counter', 'histogram'];
const HISTOGRAM = 3;
const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count', '_min', '_max', '_ssd'];
const NL = 0x0a;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Per-snapshot pieces computed once per call. */
interface SnapInfo {
  readonly tsSuffix: string; // ` <ms>\n`
  readonly extraKeys: readonly string[]; // sorted byte-wise, `le` last
  readonly extraVals: readonly string[]; // escaped
  readonly extraLabels: Labels;
  readonly invalid: string | undefined; // why every data point of it is skipped
  separatorId: number; // id of its value for the separating label key, -1 if it has none
}

/** All data points of one full name, in snapshot order then data order. */
interface Family {
  readonly snaps: number[];
  readonly datas: Data[];
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
  // prefix -> name -> prefix+name, so a scrape does not concatenate 170k names again.
  private readonly fullNames = new Map<string, Map<string, string>>();
  private fullNameCount = 0;

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
        const copy = Buffer.from(chunk); // the reused buffer is overwritten after this
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

  /** ASCII text (names, numbers): latin1 is a byte-per-char copy. */
  private ascii(s: string): void {
    this.ensure(s.length);
    this.pos += this.buf.write(s, this.pos, 'latin1');
  }

  private utf8(s: string): void {
    this.ensure(s.length * 3); // at most 3 bytes per UTF-16 unit
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  private byte(c: number): void {
    this.ensure(1);
    this.buf[this.pos++] = c;
  }

  private copyOwn(start: number, end: number): void {
    this.ensure(end - start);
    this.pos += this.buf.copy(this.buf, this.pos, start, end);
  }

  private fullName(prefix: string, name: string): string {
    if (prefix === '') return name;
    let byName = this.fullNames.get(prefix);
    if (byName === undefined) {
      byName = new Map();
      this.fullNames.set(prefix, byName);
    }
    let full = byName.get(name);
    if (full === undefined) {
      if (this.fullNameCount >= NAME_CACHE_LIMIT) {
        // Hostile name floods must not grow the cache without bound.
        this.fullNames.clear();
        this.fullNameCount = 0;
        byName = new Map();
        this.fullNames.set(prefix, byName);
      }
      full = prefix + name;
      byName.set(name, full);
      this.fullNameCount++;
    }
    return full;
  }

  // ---- rendering ----

  /** Yields views of the buffer (valid until the next step) of >= 32 KiB, then the rest. */
  private *chunks(options: ExportOptions, snapshots: readonly SnapshotExport[]): Generator<Buffer, void, void> {
    this.pos = 0;
    if (snapshots.length === 0) return;
    const onSkip = options.onSkip;
    const written = options.metricsWritten ?? new Set<string>();
    const skip = (snapshotIndex: number, metric: string, reason: string): void => {
      onSkip?.({ snapshotIndex, metric, reason });
    };

    this.writeHeader(options.commentHeader ?? '', snapshots);
    const infos = snapshots.map((s) => snapInfo(s));
    const separatorValues = assignSeparators(infos);

    // Group data points by full name (snapshot order, then data order).
    const families = new Map<string, Family>();
    for (let si = 0; si < snapshots.length; si++) {
      const { snapshot, exporterPrefix } = snapshots[si]!;
      const data = snapshot.data;
      for (let di = 0; di < data.length; di++) {
        const d = data[di]!;
        const full = this.fullName(exporterPrefix, d.metric.name);
        let fam = families.get(full);
        if (fam === undefined) {
          if (!isValidMetricName(full)) {
            skip(si, full, `invalid metric name ${JSON.stringify(full)}: must match [a-zA-Z_:][a-zA-Z0-9_:]*`);
            continue;
          }
          fam = { snaps: [], datas: [] };
          families.set(full, fam);
        }
        fam.snaps.push(si);
        fam.datas.push(d);
      }
    }
    // Valid names are ASCII, so UTF-16 order is byte order.
    const names = [...families.keys()].sort();

    // Series names a histogram family emits; a family with one of these names would
    // split that family in the text (promtool rejects it), so it is skipped.
    let histogramSeries: Map<string, string> | undefined;
    for (const name of names) {
      if (families.get(name)!.datas.some((d) => d.metric.type === HISTOGRAM)) {
        histogramSeries ??= new Map();
        for (const suffix of HISTOGRAM_SUFFIXES) histogramSeries.set(name + suffix, name);
      }
    }

    const stamps = new Int32Array(separatorValues);
    let stamp = 0;
    const seen = new Set<string>();

    for (const name of names) {
      const fam = families.get(name)!;
      const owner = histogramSeries?.get(name);
      if (owner !== undefined) {
        for (let i = 0; i < fam.datas.length; i++) {
          skip(fam.snaps[i]!, name, `name collides with the ${JSON.stringify(name)} series of histogram ${JSON.stringify(owner)}`);
        }
        continue;
      }
      // Duplicate series: across snapshots impossible when every contributor has the
      // separating extra label with its own value (server: `sandbox`); otherwise, and
      // within one snapshot, compare the rendered label sets (only then a string per point).
      stamp++;
      let separated = true;
      let lastSnap = -1;
      for (let i = 0; i < fam.snaps.length && separated; i++) {
        const si = fam.snaps[i]!;
        if (si === lastSnap) continue;
        lastSnap = si;
        const id = infos[si]!.separatorId;
        if (id < 0 || stamps[id] === stamp) separated = false;
        else stamps[id] = stamp;
      }
      const dedupeAll = !separated && fam.datas.length > 1;
      seen.clear();

      let familyType = -1;
      let preambleDue = !written.has(name);
      let histNames: string[] | undefined;
      for (let i = 0; i < fam.datas.length; i++) {
        const si = fam.snaps[i]!;
        const d = fam.datas[i]!;
        const info = infos[si]!;
        if (info.invalid !== undefined) {
          skip(si, name, info.invalid);
          continue;
        }
        const type = d.metric.type;
        if (!(type === 0 || type === 1 || type === 2 || type === 3)) {
          skip(si, name, `unknown metric type ${String(type)}`);
          continue;
        }
        if (familyType !== -1 && type !== familyType) {
          skip(si, name, `metric type ${TYPE_NAMES[type]!} conflicts with ${TYPE_NAMES[familyType]!} already written for this name`);
          continue;
        }
        // Within-snapshot duplicates are possible only when this snapshot has several points here.
        const sameSnapRun = (i > 0 && fam.snaps[i - 1] === si) || (i + 1 < fam.snaps.length && fam.snaps[i + 1] === si);
        if (!dedupeAll && sameSnapRun && (i === 0 || fam.snaps[i - 1] !== si)) seen.clear();
        const dedupe = dedupeAll || sameSnapRun;

        const start = this.pos;
        let result: string | undefined;
        if (type === HISTOGRAM) {
          histNames ??= HISTOGRAM_SUFFIXES.map((s) => name + s);
          result = this.writeHistogram(name, histNames, d, info, preambleDue, dedupe ? seen : undefined);
        } else {
          result = this.writeSample(name, d, info, preambleDue, dedupe ? seen : undefined);
        }
        if (result !== undefined) {
          this.pos = start; // nothing partial: roll the whole data point back
          skip(si, name, result);
          continue;
        }
        if (preambleDue) {
          written.add(name);
          preambleDue = false;
        }
        familyType = type;
        if (this.pos >= FLUSH_BYTES) {
          yield this.buf.subarray(0, this.pos);
          this.pos = 0;
        }
      }
    }
    this.ascii('\n# End of metric data.\n');
    yield this.buf.subarray(0, this.pos);
    this.pos = 0;
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

  private preamble(name: string, d: Data): void {
    this.byte(NL);
    const help = d.metric.help;
    if (help !== '') {
      this.ascii('# HELP ');
      this.ascii(name);
      this.byte(0x20);
      this.utf8(escapeHelp(help));
      this.byte(NL);
    }
    this.ascii('# TYPE ');
    this.ascii(name);
    this.byte(0x20);
    this.ascii(TYPE_NAMES[d.metric.type]!);
    this.byte(NL);
  }

  /**
   * Writes the label pairs (no braces) of `d` merged with the snapshot's extra labels:
   * byte-wise order, `le` last, extra labels win. Returns an error text on a bad name.
   */
  private writeLabelPairs(d: Data, info: SnapInfo, histogram: boolean): string | undefined {
    const labels = d.labels;
    const extra = info.extraLabels;
    let keys: string[] | undefined;
    for (const k in labels) {
      if (Object.hasOwn(extra, k)) continue; // the server's label wins; the sandbox's is dropped
      if (!isValidLabelName(k)) return `invalid label name ${JSON.stringify(k)}: must match [a-zA-Z_][a-zA-Z0-9_]* and not start with "__"`;
      if (k === 'le' && histogram) return 'a histogram point cannot carry its own "le" label';
      (keys ??= []).push(k);
    }
    if (keys !== undefined && keys.length > 1) keys.sort(); // ASCII (validated): UTF-16 order is byte order
    const xk = info.extraKeys;
    const xv = info.extraVals;
    const nk = keys === undefined ? 0 : keys.length;
    let a = 0;
    let b = 0;
    let first = true;
    let leValue: string | undefined;
    let leEscaped = false;
    while (a < nk || b < xk.length) {
      let key: string;
      let value: string;
      let escaped: boolean;
      if (b >= xk.length || (a < nk && keys![a]! < xk[b]!)) {
        key = keys![a++]!;
        value = labels[key]!;
        escaped = false;
      } else {
        key = xk[b]!;
        value = xv[b++]!;
        escaped = true;
      }
      if (key === 'le') {
        leValue = value;
        leEscaped = escaped;
        continue;
      }
      this.pair(first, key, value, escaped);
      first = false;
    }
    if (leValue !== undefined) this.pair(first, 'le', leValue, leEscaped);
    return undefined;
  }

  private pair(first: boolean, key: string, value: string, escaped: boolean): void {
    if (!first) this.byte(0x2c);
    this.ascii(key);
    this.ascii('="');
    this.utf8(escaped || !labelValueNeedsEscape(value) ? value : escapeLabelValue(value));
    this.byte(0x22);
  }

  /** Label section `{…}` (or nothing); returns the content range for dedupe/copies, or an error. */
  private writeLabelSection(d: Data, info: SnapInfo, histogram: boolean): [number, number] | string {
    this.byte(0x7b);
    const cs = this.pos;
    const err = this.writeLabelPairs(d, info, histogram);
    if (err !== undefined) return err;
    const ce = this.pos;
    if (ce === cs) this.pos--; // no labels: no braces
    else this.byte(0x7d);
    return [cs, ce];
  }

  private isDuplicate(seen: Set<string> | undefined, cs: number, ce: number): boolean {
    if (seen === undefined) return false;
    const key = this.buf.toString('latin1', cs, ce); // latin1 maps bytes 1:1, so equal keys = equal bytes
    if (seen.has(key)) return true;
    seen.add(key);
    return false;
  }

  private writeSample(name: string, d: Data, info: SnapInfo, preambleDue: boolean, seen: Set<string> | undefined): string | undefined {
    const n = d.number;
    if (n === undefined) return 'no value for a gauge, counter or untyped metric';
    if (preambleDue) this.preamble(name, d);
    this.ascii(name);
    const range = this.writeLabelSection(d, info, false);
    if (typeof range === 'string') return range;
    if (this.isDuplicate(seen, range[0], range[1])) return 'duplicate series (same name and labels already written)';
    this.byte(0x20);
    this.ascii(renderNumber(n));
    this.ascii(info.tsSuffix);
    return undefined;
  }

  private writeHistogram(
    name: string,
    names: readonly string[],
    d: Data,
    info: SnapInfo,
    preambleDue: boolean,
    seen: Set<string> | undefined,
  ): string | undefined {
    const h = d.histogramValue;
    if (h === undefined) return 'no histogram value for a histogram metric';
    this.byte(NL);
    if (preambleDue) this.preamble(name, d);
    // Render the label pairs once (on the first line), copy them for every other line.
    const buckets = h.buckets;
    let cs = 0;
    let ce = 0;
    let lineNo = 0;
    const openLine = (seriesName: string): void => {
      this.ascii(seriesName);
      this.byte(0x7b);
      if (lineNo++ > 0) this.copyOwn(cs, ce);
    };
    let cum: Int64 = 0;
    for (let i = 0; i < buckets.length; i++) {
      const b = buckets[i]!;
      if (i === 0) {
        this.ascii(names[0]!);
        this.byte(0x7b);
        cs = this.pos;
        const err = this.writeLabelPairs(d, info, true);
        if (err !== undefined) return err;
        ce = this.pos;
        if (this.isDuplicate(seen, cs, ce)) return 'duplicate series (same name and labels already written)';
        lineNo = 1;
      } else {
        openLine(names[0]!);
      }
      if (ce > cs) this.byte(0x2c);
      this.ascii('le="');
      this.ascii(renderNumber(b.upperBound));
      this.ascii('"} ');
      cum = addCount(cum, b.samples);
      this.ascii(String(cum));
      this.ascii(info.tsSuffix);
    }
    const tail = (idx: number, value: string): string | undefined => {
      if (lineNo === 0) {
        this.ascii(names[idx]!);
        this.byte(0x7b);
        cs = this.pos;
        const err = this.writeLabelPairs(d, info, true);
        if (err !== undefined) return err;
        ce = this.pos;
        if (this.isDuplicate(seen, cs, ce)) return 'duplicate series (same name and labels already written)';
        lineNo = 1;
      } else {
        openLine(names[idx]!);
      }
      if (ce === cs) this.pos--; // drop the `{` of an empty label set
      else this.byte(0x7d);
      this.byte(0x20);
      this.ascii(value);
      this.ascii(info.tsSuffix);
      return undefined;
    };
    const err = tail(1, renderNumber(h.total));
    if (err !== undefined) return err;
    tail(2, String(cum));
    tail(3, renderNumber(h.min));
    tail(4, renderNumber(h.max));
    tail(5, renderNumber(h.sumOfSquaredDeviations));
    this.byte(NL);
    return undefined;
  }
}

function snapInfo(s: SnapshotExport): SnapInfo {
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
    tsSuffix: ` ${timestampMillis(s.snapshot.when)}\n`,
    extraKeys: keys,
    extraVals: keys.map((k) => escapeLabelValue(extra[k]!)),
    extraLabels: extra,
    invalid,
    separatorId: -1,
  };
}

/**
 * Picks the extra label key carried by the most snapshots (the server's `sandbox`)
 * and numbers its values; snapshots sharing a value get the same id. Returns the
 * number of ids.
 */
function assignSeparators(infos: SnapInfo[]): number {
  const counts = new Map<string, number>();
  for (const info of infos) for (const k of info.extraKeys) counts.set(k, (counts.get(k) ?? 0) + 1);
  let best: string | undefined;
  let bestCount = 0;
  for (const [k, c] of counts) {
    if (c > bestCount) {
      best = k;
      bestCount = c;
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
