// Incremental exposition: each snapshot is rendered into per-family byte buffers
// the moment it is added, and its objects can be dropped; finish() only decides the
// rules that need every snapshot (family order, type conflicts, histogram and
// OpenMetrics name clashes, duplicates across snapshots) and concatenates.
//
// Property tests hold the output byte for byte, and the skips, to the reference
// serializer (test-support/exposition-reference.ts) for the same snapshots in slot
// order. Every point is reported once, written or skipped; when a point breaks several
// rules the reason given may differ (local rules are judged at add time, global ones at finish).
//
// Hot path (per point, at add): one Map lookup per run of a metric's points, the point
// rendered straight into its family's buffer, one row pushed to the family's columns;
// no string per point unless a snapshot repeats a family (dedupe keys). An unlabeled
// point of a duplicate-free canonical snapshot (nearly every point a sandbox sends) is
// three copies and an integer: its label section is rendered once per snapshot.

import type { FamilyPool } from './family-pool.js';
import {
  assignSeparators,
  COUNTER,
  DUPLICATE,
  fastIntValue,
  type HeaderEntry,
  HISTOGRAM,
  HISTOGRAM_SUFFIXES,
  headerLine,
  histogramSeriesOf,
  LineEncoder,
  MANY,
  openMetricsFamilies,
  type PointFamily,
  type SnapInfo,
  singleLabelKey,
  snapInfo,
  TYPE_NAMES,
} from './line-encoder.js';
import {
  type Data,
  type ExpositionFormat,
  type Metric,
  NO_LABELS,
  type SkippedData,
  type SnapshotExport,
  type SnapshotPoints,
} from './model.js';
import { isValidMetricName } from './names.js';

export interface BuilderOptions {
  /** `prometheus` (default) or `openmetrics`: decided up front, points are rendered at add. */
  readonly format?: ExpositionFormat;
  /** Told about every data point skipped whole; `snapshotIndex` is the point's slot. */
  readonly onSkip?: (skip: SkippedData) => void;
  /**
   * Bytes each family (full name) took last time, kept by the caller from one build to
   * the next of the same format: a family's buffer starts at that size (plus slack)
   * instead of growing by doubling, which copied every family ~log2(size/256) times.
   * finish() rewrites it with this build's families. Shared by concurrent builds freely:
   * it only ever holds hints.
   */
  readonly sizeHints?: Map<string, number>;
  /**
   * Where families' buffers and columns come from and go back to (see FamilyPool): columns
   * at finish, buffers when the caller releases the rendered body.
   */
  readonly pool?: FamilyPool;
}

export interface FinishOptions {
  /** Written first as `# <line>` per `\n`-separated piece (0.0.4 only). */
  readonly commentHeader?: string;
  /** Full names whose HELP/TYPE preamble is already out; updated in place. */
  readonly metricsWritten?: Set<string>;
}

/** A rendered exposition as pieces to send in order. */
export interface RenderedPieces {
  readonly pieces: readonly Buffer[];
  /** Total length of the pieces. */
  readonly bytes: number;
  /**
   * Gives the family buffers the pieces point into back to the builder's pool (nothing
   * without one), for a later build to overwrite: call it once nothing will read the
   * pieces again. Calls after the first do nothing.
   */
  release(): void;
}

/** Builder misuse (a slot filled twice, add after finish). */
export class BuilderStateError extends Error {
  override readonly name = 'BuilderStateError';
}

const FAMILY_INITIAL_BYTES = 256;

/** A family buffer's first size: its last size plus 1/8 (counters grow digits), else 256 bytes. */
function familyBytes(hint: number | undefined): number {
  return hint === undefined || !(hint > 0) ? FAMILY_INITIAL_BYTES : Math.min(hint + (hint >>> 3) + 64, 1 << 30);
}

/**
 * A growable column of unsigned 32-bit integers outside the JS heap: the GC neither
 * scans nor promotes it, which matters with ~170k points per scrape.
 */
class Column {
  length = 0;
  /** `data` may be a pooled column: its old contents are past `length`, never read. */
  constructor(public data: Uint32Array = new Uint32Array(8)) {}
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Uint32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  /** Four values at once (one point's row): one capacity check. */
  push4(a: number, b: number, c: number, d: number): void {
    let n = this.length;
    if (n + 4 > this.data.length) {
      const next = new Uint32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    const data = this.data;
    data[n++] = a;
    data[n++] = b;
    data[n++] = c;
    data[n++] = d;
    this.length = n;
  }
}

// Strides of the two tables of a family store.
const PT = 4; // point: byte start, key start, key end, type
const SEG = 2; // segment: slot, first point

/**
 * Everything added under one full name. Owned by the builder; written only by add()
 * (appends) and read by finish(). `buf` holds the rendered points back to back, in
 * add order; a segment is a run of one slot's written points (a slot added whole is one
 * segment; a slot given in parts may come back after another slot's points: slotAgain).
 */
interface FamilyStore extends PointFamily {
  readonly name: string;
  /** Why every point of it is refused (invalid full name); reported at add. */
  readonly invalid: string | undefined;
  /** Sample name of counter points (OpenMetrics: `<family>_total`). */
  readonly counterName: string;
  /** `name` and `counterName` as bytes, for the plain-point path (valid names are ASCII). */
  readonly nameBytes: Buffer;
  readonly counterBytes: Buffer;
  buf: Buffer;
  len: number;
  /** Lowest slot with a point of a known type, and that point's type (OpenMetrics naming). */
  firstTypeSlot: number;
  firstType: number;
  hasHistogram: boolean;
  readonly points: Column; // PT per written point
  readonly segments: Column; // SEG per segment
  /** Segments holding points of more than one type (rare: hostile input). */
  mixed: Set<number> | undefined;
  /**
   * The last segment's slot (-1: none yet) and the first segment's first point's type:
   * copies of the columns' cells kept on the store, which every point touches anyway
   * (reading the columns cost a cache miss per point at N = 1000).
   */
  lastSlot: number;
  firstPointType: number;
  /** A segment was added for a lower slot than the one before it (slots added out of order). */
  unsorted: boolean;
  /** A slot given in parts may have more than one segment here (see record). */
  slotAgain: boolean;
  /** A segment's first point has another type than the first segment's first point. */
  typeChange: boolean;
  /** Segments of snapshots with no extra labels (they cannot be told apart by a label). */
  bareSegments: number;
  /** Lowest slot with a segment, and its first point's metric: the preamble (nothing else of a snapshot is kept). */
  firstSegSlot: number;
  firstSegMetric: Metric | undefined;
  /** The last segment's dedupe sets per type (made on its second point). */
  curSeen: (Set<string> | undefined)[] | undefined;
  /** Every point of the last segment so far is vouched duplicate-free (no sets kept for it). */
  curVouched: boolean;
}

/** A snapshot's unlabeled-line middle (ExpositionBuilder.plainSection); key offsets are into `bytes`. */
interface PlainSection {
  readonly bytes: Buffer;
  readonly keyStart: number;
  readonly keyEnd: number;
}

/** What finish() needs of an added snapshot (the rendering pieces are dropped after add). */
interface SlotInfo extends HeaderEntry {
  /** Points so far (a slot given in parts adds to it with each part). */
  count: number;
  /** Made at add, or at finish for a slot given in parts (its count is known only then). */
  line: string | undefined;
  readonly extraKeys: readonly string[];
  separatorId: number;
  /** Set for a slot given in parts (addPart): what every later part must match, and reuses. */
  readonly parts: PartsOf | undefined;
}

/**
 * What a slot given in parts keeps of its first part, for the later ones to match and reuse
 * (its `when` and extra labels are the slot's; distinctSeries is `info`'s).
 */
interface PartsOf {
  readonly exporterPrefix: string;
  readonly info: SnapInfo;
  readonly groups: Map<string, FamilyStore>;
}

export class ExpositionBuilder extends LineEncoder {
  private readonly om: boolean;
  private readonly onSkip: ((skip: SkippedData) => void) | undefined;
  private readonly sizeHints: Map<string, number> | undefined;
  private readonly pool: FamilyPool | undefined;
  /** A point without labels, for rendering a snapshot's label section alone (plainSection). */
  private readonly unlabeled: Data = { metric: { name: '', type: 0, help: '' }, labels: NO_LABELS };
  /** Per slot: what finish() needs once added; undefined while reserved. */
  private readonly slots: (SlotInfo | undefined)[] = [];
  /** (exporter prefix, metric name) -> store, so a point's lookup builds no string. */
  private readonly byPrefix = new Map<string, Map<string, FamilyStore>>();
  /** Full name -> store (two prefixes can meet on one full name). */
  private readonly families = new Map<string, FamilyStore>();
  private finished = false;

  constructor(options: BuilderOptions = {}) {
    super();
    this.om = options.format === 'openmetrics';
    this.onSkip = options.onSkip;
    this.sizeHints = options.sizeHints;
    this.pool = options.pool;
  }

  /** A slot for a snapshot added later: slots order the header and each family's points. */
  reserve(): number {
    this.slots.push(undefined);
    return this.slots.length - 1;
  }

  /** Renders `exp` into its families now; the snapshot is not kept. */
  add(exp: SnapshotExport, slot: number = this.reserve()): void {
    this.checkEmptySlot(slot);
    const { snapshot, exporterPrefix } = exp;
    const info = snapInfo(exp, this.om);
    const count = snapshot.length;
    const entry: SlotInfo = {
      count,
      when: snapshot.when,
      extraLabels: exp.extraLabels,
      line: undefined,
      extraKeys: info.extraKeys,
      separatorId: -1,
      parts: undefined,
    };
    // The header's line for it is made now, off the scrape's tail (OpenMetrics has no header).
    if (!this.om) entry.line = headerLine(entry);
    this.slots[slot] = entry;
    this.render(snapshot, this.groupsOf(exporterPrefix), exporterPrefix, slot, info);
  }

  /**
   * Renders `exp`'s points now as one more part of the snapshot in `slot` (reserved, or
   * opened by an earlier part): the slot comes out as one snapshot holding every part's
   * points in the order added, as if added whole. Lets a caller render a snapshot it
   * assembles over time (the server's meta snapshot, a sandbox at a time as answers
   * arrive) instead of all of it at the end. Every part must carry the first part's
   * `when`, exporter prefix, extra labels (the same object) and distinctSeries, which
   * then vouches for all of the parts together. The part is not kept: the caller may
   * reuse its objects for the next one.
   */
  addPart(exp: SnapshotExport, slot: number): void {
    const { snapshot, exporterPrefix } = exp;
    let entry = this.slots[slot];
    let parts = entry?.parts;
    if (entry === undefined || parts === undefined) {
      this.checkEmptySlot(slot);
      const info = snapInfo(exp, this.om);
      parts = { exporterPrefix, info, groups: this.groupsOf(exporterPrefix) };
      entry = {
        count: 0,
        when: snapshot.when,
        extraLabels: exp.extraLabels,
        line: undefined,
        extraKeys: info.extraKeys,
        separatorId: -1,
        parts,
      };
      this.slots[slot] = entry;
    } else {
      if (this.finished) throw new BuilderStateError('addPart() after finish()');
      if (
        snapshot.when !== entry.when ||
        exporterPrefix !== parts.exporterPrefix ||
        exp.extraLabels !== entry.extraLabels ||
        (exp.distinctSeries === true) !== parts.info.distinctSeries
      ) {
        throw new BuilderStateError(
          `a part of slot ${slot} differs from its first part in when, exporter prefix, extra labels or distinctSeries`,
        );
      }
    }
    entry.count += snapshot.length;
    this.render(snapshot, parts.groups, exporterPrefix, slot, parts.info);
  }

  private checkEmptySlot(slot: number): void {
    if (this.finished) throw new BuilderStateError('add() after finish()');
    if (!(slot >= 0 && slot < this.slots.length) || this.slots[slot] !== undefined) {
      throw new BuilderStateError(`slot ${slot} is not a reserved, empty slot`);
    }
  }

  private groupsOf(exporterPrefix: string): Map<string, FamilyStore> {
    let groups = this.byPrefix.get(exporterPrefix);
    if (groups === undefined) {
      groups = new Map();
      this.byPrefix.set(exporterPrefix, groups);
    }
    return groups;
  }

  /**
   * A snapshot's (or part's) points into their families, in order. Unlabeled int points of
   * a duplicate-free snapshot (nearly all of a sandbox's) take the plain path; every other
   * point the general one (addPoint). Neither keeps the point: a reader may reuse it.
   */
  private render(
    points: SnapshotPoints,
    groups: Map<string, FamilyStore>,
    exporterPrefix: string,
    slot: number,
    info: SnapInfo,
  ): void {
    const n = points.length;
    const plain = info.invalid === undefined && info.distinctSeries ? this.plainSection(info) : undefined;
    let lastMetric: Metric | undefined;
    let store: FamilyStore | undefined;
    for (let di = 0; di < n; di++) {
      const d = points.pointAt(di);
      const metric = d.metric;
      if (metric !== lastMetric) {
        // runsc sends a metric's points together: one lookup per run of them.
        store = this.groupStore(groups, exporterPrefix, metric);
        lastMetric = metric;
      }
      if (plain !== undefined && d.labels === NO_LABELS && d.histogramValue === undefined) {
        const value = fastIntValue(d.number);
        if (!Number.isNaN(value) && this.addPlain(store!, slot, info, plain, metric, value)) continue;
      }
      this.addPoint(store!, slot, info, d);
    }
  }

  private groupStore(groups: Map<string, FamilyStore>, exporterPrefix: string, metric: Metric): FamilyStore {
    let store = groups.get(metric.name);
    if (store === undefined) {
      store = this.storeFor(exporterPrefix + metric.name);
      groups.set(metric.name, store);
    }
    return store;
  }

  /**
   * What every unlabeled sample line of a snapshot has between its name and its value:
   * the label section of the extra labels alone, then the space. Rendered once per
   * snapshot by writeLabelSection itself, so the plain path cannot disagree with it.
   */
  private plainSection(info: SnapInfo): PlainSection {
    this.buf = this.scratch;
    this.pos = 0;
    const cs = this.writeLabelSection(this.unlabeled, null, '', info) as number; // no point labels: no error
    const keyEnd = cs < this.pos ? this.pos - 1 : cs;
    this.byte(0x20);
    return { bytes: Buffer.from(this.buf.subarray(0, this.pos)), keyStart: cs, keyEnd };
  }

  /**
   * An unlabeled int point of a duplicate-free snapshot: its line is the sample name, the
   * snapshot's plain section, the value and the timestamp suffix, copied, with no
   * per-point label work. False (having changed nothing) when a rule needs the general
   * path: an invalid name, a type other than untyped, gauge or counter, or a segment
   * whose duplicate check is running.
   */
  private addPlain(
    store: FamilyStore,
    slot: number,
    info: SnapInfo,
    plain: PlainSection,
    metric: Metric,
    value: number,
  ): boolean {
    const type = metric.type;
    if (store.invalid !== undefined || !(type === 0 || type === 1 || type === COUNTER)) return false;
    const segs = store.segments;
    const nSeg = segs.length / SEG;
    const sameSlot = store.lastSlot === slot;
    if (sameSlot && !store.curVouched) return false;
    if (store.firstTypeSlot === -1 || slot < store.firstTypeSlot) {
      store.firstTypeSlot = slot;
      store.firstType = type;
    }
    const name = type === COUNTER ? store.counterBytes : store.nameBytes;
    const section = plain.bytes;
    const ts = info.tsSuffix;
    this.buf = store.buf;
    const start = store.len;
    this.pos = start;
    this.ensure(name.length + section.length + 17 + ts.length);
    const buf = this.buf;
    buf.set(name, start);
    const at = start + name.length;
    buf.set(section, at);
    this.pos = at + section.length;
    this.integer(value); // room ensured above: the buffer stays `buf`
    buf.set(ts, this.pos);
    store.len = this.pos + ts.length;
    store.buf = buf;
    this.record(store, slot, info, type, start, at + plain.keyStart, at + plain.keyEnd, sameSlot, nSeg, true, metric);
    return true;
  }

  private storeFor(full: string): FamilyStore {
    let store = this.families.get(full);
    if (store !== undefined) return store;
    const invalid = isValidMetricName(full)
      ? undefined
      : `invalid metric name ${JSON.stringify(full)}: must match [a-zA-Z_:][a-zA-Z0-9_:]*`;
    const family = this.om && full.endsWith('_total') && full.length > 6 ? full.slice(0, -6) : full;
    const counterName = this.om ? `${family}_total` : full;
    const nameBytes = Buffer.from(full, 'latin1');
    const pool = this.pool;
    const bytes = familyBytes(this.sizeHints?.get(full));
    const columns = pool?.takeColumns(full);
    store = {
      name: full,
      histNames: undefined,
      invalid,
      counterName,
      nameBytes,
      counterBytes: counterName === full ? nameBytes : Buffer.from(counterName, 'latin1'),
      buf: pool?.takeBuffer(full, bytes) ?? Buffer.allocUnsafe(bytes),
      len: 0,
      firstTypeSlot: -1,
      firstType: 0,
      hasHistogram: false,
      points: new Column(columns?.[0]),
      segments: new Column(columns?.[1]),
      mixed: undefined,
      lastSlot: -1,
      firstPointType: -1,
      unsorted: false,
      slotAgain: false,
      typeChange: false,
      bareSegments: 0,
      firstSegSlot: -1,
      firstSegMetric: undefined,
      curSeen: undefined,
      curVouched: false,
    };
    this.families.set(full, store);
    return store;
  }

  private skip(slot: number, metric: string, reason: string): void {
    this.onSkip?.({ snapshotIndex: slot, metric, reason });
  }

  /** The per-point rules that need only this snapshot, then the point into its family's buffer. */
  private addPoint(store: FamilyStore, slot: number, info: SnapInfo, d: Data): void {
    const name = store.name;
    if (store.invalid !== undefined) {
      this.skip(slot, name, store.invalid);
      return;
    }
    const type = d.metric.type;
    const known = type === 0 || type === 1 || type === 2 || type === 3;
    if (known && (store.firstTypeSlot === -1 || slot < store.firstTypeSlot)) {
      store.firstTypeSlot = slot;
      store.firstType = type;
    }
    if (type === HISTOGRAM) store.hasHistogram = true;
    if (info.invalid !== undefined) {
      this.skip(slot, name, info.invalid);
      return;
    }
    if (!known) {
      this.skip(slot, name, `unknown metric type ${String(type)}`);
      return;
    }

    // A second point of this slot in the family: duplicates within the snapshot are
    // possible from here on (compared per type: a point of the losing type is never written).
    let seen: Set<string> | undefined;
    const segs = store.segments;
    const pts = store.points;
    const nSeg = segs.length / SEG;
    const sameSlot = store.lastSlot === slot;
    const single = singleLabelKey(d.labels);
    // A snapshot vouched free of duplicates needs no set while no point of the segment lost
    // a label to an extra label (which can merge two label sets). From the first such point
    // on, the set is kept, filled first from every earlier point of the segment.
    const vouched =
      info.distinctSeries &&
      (!sameSlot || store.curVouched) &&
      (info.extraKeys.length === 0 || single === null || (single !== MANY && !Object.hasOwn(info.extraLabels, single)));
    if (sameSlot && !vouched) {
      store.curVouched = false;
      store.curSeen ??= [undefined, undefined, undefined, undefined];
      seen = store.curSeen[type];
      if (seen === undefined) {
        seen = new Set();
        store.curSeen[type] = seen;
        for (let q = segs.data[(nSeg - 1) * SEG + 1]! * PT; q < pts.length; q += PT) {
          if (pts.data[q + 3] === type) seen.add(store.buf.toString('latin1', pts.data[q + 1]!, pts.data[q + 2]!));
        }
      }
    }

    // Render straight into the family's buffer (the encoder's buffer is swapped in).
    this.buf = store.buf;
    const start = store.len;
    this.pos = start;
    let err: string | undefined;
    if (type === HISTOGRAM) {
      store.histNames ??= histogramNames(name);
      err = this.writeHistogram(store, d, info, seen, this.om);
    } else {
      const singleValue = single === null || single === MANY ? '' : d.labels[single]!;
      const sampleName = type === COUNTER ? store.counterName : name;
      err = this.writeSample(sampleName, d, single, singleValue, fastIntValue(d.number), info, seen);
    }
    store.buf = this.buf;
    if (err !== undefined) {
      store.len = start; // nothing partial
      this.skip(slot, name, err);
      return;
    }
    store.len = this.pos;
    this.record(store, slot, info, type, start, this.keyStart, this.keyEnd, sameSlot, nSeg, vouched, d.metric);
  }

  /** A point written to `store.buf` from `start`: its row, and its segment's bookkeeping. */
  private record(
    store: FamilyStore,
    slot: number,
    info: SnapInfo,
    type: number,
    start: number,
    keyStart: number,
    keyEnd: number,
    sameSlot: boolean,
    nSeg: number,
    vouched: boolean,
    metric: Metric,
  ): void {
    const segs = store.segments;
    const pts = store.points;
    const p = pts.length / PT;
    if (!sameSlot) {
      if (nSeg > 0) {
        if (slot < store.lastSlot) store.unsorted = true;
        if (type !== store.firstPointType) store.typeChange = true;
        // A slot given in parts may come back to this family after another slot's points:
        // then two of its segments here, which only the full check at finish keeps apart.
        if (this.slots[slot]!.parts !== undefined) store.slotAgain = true;
      } else {
        store.firstPointType = type;
      }
      if (info.extraKeys.length === 0) store.bareSegments++;
      segs.push(slot);
      segs.push(p);
      store.lastSlot = slot;
      store.curSeen = undefined; // the dedupe sets belong to the last segment
      store.curVouched = vouched;
      if (store.firstSegSlot === -1 || slot < store.firstSegSlot) {
        store.firstSegSlot = slot;
        store.firstSegMetric = metric;
      }
    } else if (pts.data[segs.data[(nSeg - 1) * SEG + 1]! * PT + 3] !== type) {
      (store.mixed ??= new Set()).add(nSeg - 1);
    }
    pts.push4(start, keyStart, keyEnd, type);
  }

  /**
   * The whole exposition. Applies the rules that need every snapshot, in this
   * order: family name order, histogram series clashes, OpenMetrics name clashes, the
   * first written type of a family wins, duplicates across snapshots unless a label
   * tells them apart. Reserved slots never added are left out.
   */
  finish(options: FinishOptions = {}): Buffer {
    const rendered = this.finishPieces(options);
    const body = Buffer.concat(rendered.pieces, rendered.bytes);
    rendered.release();
    return body;
  }

  /**
   * As finish(), but the body as the pieces to send in order, without the copy into one
   * buffer: mostly views of the family buffers (which they keep alive), a family usually
   * being one piece. The pieces are immutable; share them freely.
   */
  finishPieces(options: FinishOptions = {}): RenderedPieces {
    if (this.finished) throw new BuilderStateError('finish() called twice');
    this.finished = true;
    const om = this.om;
    const written = options.metricsWritten ?? new Set<string>();
    const infos: SlotInfo[] = [];
    for (const info of this.slots) {
      if (info === undefined) continue;
      if (info.parts !== undefined && !om) info.line = headerLine(info);
      infos.push(info);
    }
    const out = new PieceList();
    if (infos.length === 0) {
      if (om) out.add(Buffer.from('# EOF\n', 'latin1'));
      return this.handOver(out);
    }
    if (!om) {
      this.startSmall(out);
      this.writeHeader(options.commentHeader ?? '', infos);
      this.endSmall(out);
    }

    const separatorValues = assignSeparators(infos);
    // Every snapshot with extra labels has its own value of the separating label (the
    // server's `sandbox`): then a family without bare segments is separated at a glance.
    let allKeyed = true;
    const taken = new Uint8Array(separatorValues);
    for (const info of infos) {
      if (info.extraKeys.length === 0) continue;
      const id = info.separatorId;
      if (id < 0 || taken[id] === 1) {
        allKeyed = false;
        break;
      }
      taken[id] = 1;
    }
    const pass: FamilyPass = { out, written, stamps: new Int32Array(separatorValues), stamp: 0, allKeyed };
    const names: string[] = [];
    for (const [name, store] of this.families) if (store.invalid === undefined) names.push(name);
    names.sort(); // valid names are ASCII: UTF-16 order is byte order
    const histogramSeries = histogramSeriesOf(names, (name) => this.families.get(name)!.hasHistogram);
    const omFamily = om
      ? openMetricsFamilies(
          names,
          (name) => this.families.get(name)!.firstType,
          histogramSeries,
          (name, reason) => this.skipWritten(this.families.get(name)!, reason),
        )
      : undefined;

    for (const name of names) {
      const store = this.families.get(name)!;
      const owner = histogramSeries?.get(name);
      if (owner !== undefined) {
        this.skipWritten(
          store,
          `name collides with the ${JSON.stringify(name)} series of histogram ${JSON.stringify(owner)}`,
        );
        continue;
      }
      const familyName = omFamily === undefined ? name : omFamily.get(name);
      if (familyName === undefined) continue; // an OpenMetrics clash, reported above
      this.writeFamily(pass, store, familyName);
    }
    this.startSmall(out);
    this.ascii(om ? '# EOF\n' : '\n# End of metric data.\n');
    this.endSmall(out);
    const hints = this.sizeHints;
    if (hints !== undefined) {
      hints.clear();
      for (const [name, store] of this.families) hints.set(name, store.len);
    }
    return this.handOver(out);
  }

  /**
   * The builder lets go of everything: the pieces are what callers keep. Columns go back
   * to the pool now; buffers when the caller releases the pieces.
   */
  private handOver(out: PieceList): RenderedPieces {
    const { pieces, bytes } = out.done();
    const pool = this.pool;
    const stores = [...this.families.values()];
    this.families.clear();
    this.byPrefix.clear();
    this.buf = this.scratch; // no view of the last family's buffer stays here
    if (pool === undefined) return { pieces, bytes, release: noRelease };
    pool.giveColumns(stores.map((st) => [st.name, st.points.data, st.segments.data] as const));
    let released = false;
    return {
      pieces,
      bytes,
      release: (): void => {
        if (released) return;
        released = true;
        pool.giveBuffers(stores.map((st) => [st.name, st.buf] as const));
      },
    };
  }

  /** Reports every written point of `store` as skipped with `reason`. */
  private skipWritten(store: FamilyStore, reason: string): void {
    const segs = store.segments.data;
    const nSeg = store.segments.length / SEG;
    const nPts = store.points.length / PT;
    for (let g = 0; g < nSeg; g++) {
      const to = g + 1 < nSeg ? segs[(g + 1) * SEG + 1]! : nPts;
      for (let q = segs[g * SEG + 1]!; q < to; q++) this.skip(segs[g * SEG]!, store.name, reason);
    }
  }

  /** Small pieces (header, preambles, trailer) are drawn in the encoder's scratch buffer, then copied out. */
  private readonly scratch = Buffer.allocUnsafe(4096);
  private startSmall(out: PieceList): void {
    out.flush();
    this.buf = this.scratch;
    this.pos = 0;
  }
  private endSmall(out: PieceList): void {
    out.add(Buffer.from(this.buf.subarray(0, this.pos)));
  }

  /**
   * One family's points in slot order, under the rules that need every snapshot. A method
   * with no per-call closures, so its optimized code serves every scrape (the loop used to
   * live in finishPieces' closures, and was compiled afresh, on-stack, in every call).
   */
  private writeFamily(pass: FamilyPass, store: FamilyStore, familyName: string): void {
    const om = this.om;
    const out = pass.out;
    const name = store.name;
    const segs = store.segments.data;
    const nSeg = store.segments.length / SEG;
    if (nSeg === 0) return;
    const pts = store.points.data;
    const nPts = store.points.length / PT;
    const order = store.unsorted ? slotOrder(segs, nSeg) : null; // null: already in slot order
    const familyType = pts[segs[(order === null ? 0 : order[0]!) * SEG + 1]! * PT + 3]!;
    // OpenMetrics: a counter's samples were named at add from the name alone; the family
    // name (decided from the first point of a known type, written or not) can disagree.
    const rename =
      om && familyType === COUNTER && `${familyName}_total` !== store.counterName
        ? Buffer.from(`${familyName}_total`, 'latin1')
        : undefined;
    // One contributing snapshot, or each with its own separator value: no duplicates across snapshots.
    // (Not when a slot given in parts has two segments: they share its separator value.)
    const apart = nSeg === 1 || (pass.allKeyed && store.bareSegments === 0 && !store.slotAgain);
    if (apart && order === null && rename === undefined && !store.typeChange && store.mixed === undefined) {
      // The common case (every sandbox family, every meta family): in slot order, one type,
      // so the whole buffer as rendered, in O(1) rather than per segment or point.
      let start = pts[0]!;
      if (!pass.written.has(name)) start = this.familyPreamble(pass, store, familyName, familyType, start);
      out.copy(store.buf, start, store.len);
      return;
    }
    // Separated: every contributing slot has its own value of the separating label, so
    // no two of them can render the same label set.
    let separated = apart;
    if (!separated) {
      separated = true;
      const thisStamp = ++pass.stamp;
      const stamps = pass.stamps;
      for (let i = 0; i < nSeg; i++) {
        const g = order === null ? i : order[i]!;
        const id = this.slots[segs[g * SEG]!]!.separatorId; // set by assignSeparators
        if (id < 0 || stamps[id] === thisStamp) {
          separated = false;
          break;
        }
        stamps[id] = thisStamp;
      }
    }
    let preambleDue = !pass.written.has(name);
    const crossSeen = separated ? undefined : new Set<string>();
    const buf = store.buf;
    const len = store.len;
    for (let i = 0; i < nSeg; i++) {
      const g = order === null ? i : order[i]!;
      const slot = segs[g * SEG]!;
      const from = segs[g * SEG + 1]!;
      const to = g + 1 < nSeg ? segs[(g + 1) * SEG + 1]! : nPts;
      if (separated && rename === undefined && store.mixed?.has(g) !== true && pts[from * PT + 3] === familyType) {
        // The common case: the whole segment as rendered.
        let start = pts[from * PT]!;
        if (preambleDue) {
          start = this.familyPreamble(pass, store, familyName, familyType, start);
          preambleDue = false;
        }
        out.copy(buf, start, pointEnd(pts, nPts, len, to - 1));
        continue;
      }
      for (let q = from; q < to; q++) {
        const type = pts[q * PT + 3]!;
        if (type !== familyType) {
          this.skip(
            slot,
            name,
            `metric type ${TYPE_NAMES[type]!} conflicts with ${TYPE_NAMES[familyType]!} already written for this name`,
          );
          continue;
        }
        if (crossSeen !== undefined) {
          const key = buf.toString('latin1', pts[q * PT + 1]!, pts[q * PT + 2]!);
          if (crossSeen.has(key)) {
            this.skip(slot, name, DUPLICATE);
            continue;
          }
          crossSeen.add(key);
        }
        let start = pts[q * PT]!;
        if (preambleDue) {
          start = this.familyPreamble(pass, store, familyName, familyType, start);
          preambleDue = false;
        }
        if (rename === undefined) out.copy(buf, start, pointEnd(pts, nPts, len, q));
        else {
          out.add(rename);
          out.copy(buf, start + store.counterName.length, pointEnd(pts, nPts, len, q));
        }
      }
    }
  }

  /**
   * The family's HELP/TYPE, due at the first point of its lowest slot's segment (it has the
   * family's type); returns where that point's bytes continue. A histogram point opens
   * with its blank line: the preamble goes after it.
   */
  private familyPreamble(
    pass: FamilyPass,
    store: FamilyStore,
    familyName: string,
    familyType: number,
    from: number,
  ): number {
    const out = pass.out;
    let at = from;
    if (familyType === HISTOGRAM && !this.om) {
      out.copy(store.buf, at, at + 1);
      at++;
    }
    this.startSmall(out);
    this.preamble(familyName, store.firstSegMetric!, this.om);
    this.endSmall(out);
    pass.written.add(store.name);
    return at;
  }
}

/** What one finishPieces call threads through its families. */
interface FamilyPass {
  readonly out: PieceList;
  readonly written: Set<string>;
  /** Per separator value: the stamp of the last family that saw it (no Set per family). */
  readonly stamps: Int32Array;
  stamp: number;
  /** Every slot with extra labels has a separator value of its own. */
  readonly allKeyed: boolean;
}

/** The body being assembled: pieces in order, adjacent ranges of one buffer merged (a family is usually one piece). */
class PieceList {
  private readonly pieces: Buffer[] = [];
  private total = 0;
  private runBuf: Buffer | undefined;
  private runStart = 0;
  private runEnd = 0;

  /** `b[start, end)` next. */
  copy(b: Buffer, start: number, end: number): void {
    if (b === this.runBuf && start === this.runEnd) {
      this.runEnd = end;
      return;
    }
    this.flush();
    this.runBuf = b;
    this.runStart = start;
    this.runEnd = end;
  }

  /** A whole buffer next. */
  add(b: Buffer): void {
    this.flush();
    this.pieces.push(b);
    this.total += b.length;
  }

  flush(): void {
    const b = this.runBuf;
    if (b !== undefined && this.runEnd > this.runStart) {
      this.pieces.push(b.subarray(this.runStart, this.runEnd));
      this.total += this.runEnd - this.runStart;
    }
    this.runBuf = undefined;
  }

  done(): { pieces: Buffer[]; bytes: number } {
    this.flush();
    return { pieces: this.pieces, bytes: this.total };
  }
}

function noRelease(): void {}

/**
 * A histogram family's series names. Out of addPoint: a closure there over `name` would
 * make V8 allocate a context for it on every call, histogram or not (~40 bytes per point).
 */
function histogramNames(name: string): string[] {
  return HISTOGRAM_SUFFIXES.map((s) => name + s);
}

/** Where point `q`'s bytes end: the next point's start, or the buffer's end. */
function pointEnd(pts: Uint32Array, nPts: number, len: number, q: number): number {
  return q + 1 < nPts ? pts[(q + 1) * PT]! : len;
}

/** Segment indexes in slot order (for a family whose slots were added out of order). */
function slotOrder(segs: Uint32Array, nSeg: number): number[] {
  const order: number[] = [];
  for (let g = 0; g < nSeg; g++) order.push(g);
  return order.sort((a, b) => segs[a * SEG]! - segs[b * SEG]!);
}
