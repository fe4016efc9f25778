// The Prometheus text (0.0.4) exposition writer, in runsc metric-server's shape
// (prometheus.md §4), with the Go writer's defects fixed (see README "Differences").
//
// Points are rendered by LineEncoder (line-encoder.ts); this file groups a whole set
// of snapshots by family and drives it. The family-order pass reads compact
// per-family columns filled by the grouping pass (one pass over every point's
// pointers instead of two). No string is built per sample except for dedupe keys
// where collisions are possible.
import type { Writable } from 'node:stream';
import {
  assignSeparators,
  COUNTER,
  fastIntValue,
  HISTOGRAM,
  HISTOGRAM_SUFFIXES,
  histogramSeriesOf,
  INITIAL_BYTES,
  LineEncoder,
  MANY,
  openMetricsFamilies,
  type PointFamily,
  type SnapInfo,
  singleLabelKey,
  snapInfo,
  TYPE_NAMES,
} from './line-encoder.js';
import type { Data, ExpositionFormat, SkippedData, SnapshotExport } from './model.js';
import { isValidMetricName } from './names.js';

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

/** A chunk callback; the Buffer it gets is its own (a copy). */
export type ChunkSink = (chunk: Buffer) => void;
export type ExpositionSink = Writable | ChunkSink;

/** The sink was closed or failed before all output was handed over. */
export class SinkClosedError extends Error {
  override readonly name = 'SinkClosedError';
}

const FLUSH_BYTES = 32 * 1024;
const MAX_KEPT_BYTES = 1024 * 1024;

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
interface FamilyState extends PointFamily {
  /** The full name: sample name of gauges and untyped, base of histogram series. */
  readonly name: string;
  /** Name on a counter's sample lines (OpenMetrics: `<family>_total`). */
  readonly counterName: string;
  readonly dedupeAll: boolean;
  familyType: number;
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
  fam.snaps.push(si);
  fam.datas.push(d);
  fam.types.push(d.metric.type);
  const key = singleLabelKey(d.labels);
  fam.labelKey.push(key);
  fam.labelValue.push(key === null || key === MANY ? '' : d.labels[key]!);
  fam.values.push(fastIntValue(d.number));
}

function copyPoint(to: Family, from: Family, i: number): void {
  to.snaps.push(from.snaps[i]!);
  to.datas.push(from.datas[i]!);
  to.types.push(from.types[i]!);
  to.labelKey.push(from.labelKey[i]!);
  to.labelValue.push(from.labelValue[i]!);
  to.values.push(from.values[i]!);
}

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

export class ExpositionWriter extends LineEncoder {
  // The encoder's buffer is owned by the call that runs `chunks()`; `tail` serialises write() calls so two
  // never share it, and renderToString uses a private writer while one runs.
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

  private async writeNow(
    sink: ExpositionSink,
    options: ExportOptions,
    snapshots: readonly SnapshotExport[],
  ): Promise<number> {
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
    if (!om)
      this.writeHeader(
        options.commentHeader ?? '',
        snapshots.map((s) => ({ count: s.snapshot.length, when: s.snapshot.when, extraLabels: s.extraLabels })),
      );
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
      for (let di = 0; di < snapshot.length; di++) {
        // Points are kept until the families are written: a copy of each (a reader may reuse one object).
        const p = snapshot.pointAt(di);
        const d: Data = { ...p, ...(p.number === undefined ? {} : { number: { ...p.number } }) };
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
          for (const si of fam.snaps)
            skip(si, full, `invalid metric name ${JSON.stringify(full)}: must match [a-zA-Z_:][a-zA-Z0-9_:]*`);
          continue;
        }
        const other = families.get(full);
        families.set(full, other === undefined ? fam : mergeFamilies(other, fam));
      }
    }
    // Valid names are ASCII, so UTF-16 order is byte order.
    const names = [...families.keys()].sort();

    const histogramSeries = histogramSeriesOf(names, (name) => families.get(name)!.types.includes(HISTOGRAM));
    return {
      om,
      omFamily: om
        ? openMetricsFamilies(
            names,
            (name) => families.get(name)!.types.find((t) => t === 0 || t === 1 || t === 2 || t === 3) ?? 0,
            histogramSeries,
            (name, reason) => {
              for (const si of families.get(name)!.snaps) skip(si, name, reason);
            },
          )
        : undefined,
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
        ctx.skip(
          fam.snaps[i]!,
          name,
          `name collides with the ${JSON.stringify(name)} series of histogram ${JSON.stringify(owner)}`,
        );
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
        ctx.skip(
          si,
          name,
          `metric type ${TYPE_NAMES[type]!} conflicts with ${TYPE_NAMES[st.familyType]!} already written for this name`,
        );
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
        result = this.writeSample(
          st,
          sampleName,
          datas[i]!,
          labelKey[i]!,
          labelValue[i]!,
          values[i]!,
          info,
          dedupe,
          ctx.om,
        );
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
}

/** Writes one chunk, waiting for 'drain' when the stream asks for it. */
function writeToStream(sink: Writable, chunk: Buffer): Promise<void> | void {
  if (sink.destroyed || sink.writableEnded)
    throw new SinkClosedError('the output stream was closed before the exposition was complete');
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
