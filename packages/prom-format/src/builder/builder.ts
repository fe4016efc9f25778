// Incremental exposition: each snapshot is rendered into per-family byte buffers the
// moment it is added, and its objects can be dropped; finish() only applies the rules
// that need every snapshot (finish-rules.ts) and strings the family buffers together.
//
// A point takes one of two paths at add:
// - the plain-point path (addPlain): an unlabeled int point of a snapshot vouched free of
//   duplicates, nearly every point a sandbox sends: name, the snapshot's label section,
//   value and timestamp, copied; no label work per point;
// - the general path (addPoint): every rule that needs only its own snapshot, then the
//   point rendered by lines.ts.
// A family takes one of two paths at finish (writeFamily):
// - the whole-family copy: its segments lie in slot order, of one type, each of its own
//   snapshot (every sandbox family and every meta family): its buffer as rendered;
// - the general path, point by point: type conflicts, duplicates across snapshots, order.
//
// Property tests hold the output byte for byte, and the skips, to the reference
// serializer (test-support/exposition-reference.ts) for the same snapshots in slot order.
// Every point is reported once, written or skipped; when a point breaks several rules the
// reason given may differ (local rules are judged at add time, global ones at finish).
import type { FamilyPool } from '../family-pool.js';
import {
  type Data,
  type ExpositionFormat,
  type Metric,
  MetricType,
  NO_LABELS,
  type SkippedData,
  type SnapshotExport,
  type SnapshotPoints,
} from '../model.js';
import { MAX_INTEGER_BYTES } from './byte-writer.js';
import {
  type FamilyStore,
  histogramNamesOf,
  newFamilyStore,
  noteType,
  PT,
  PT_KEY_END,
  PT_KEY_START,
  PT_START,
  PT_TYPE,
  pointEnd,
  recordPoint,
  SEG,
  segmentEnd,
  segmentSeen,
} from './family-store.js';
import { assignSeparators, familyShape, histogramSeriesOf, openMetricsFamilies } from './finish-rules.js';
import { MANY, singleLabelKey } from './label-section.js';
import { DUPLICATE, fastIntValue, isKnownType, isSingleLineType, LineWriter, TYPE_NAMES } from './lines.js';
import { PieceList, type RenderedPieces } from './pieces.js';
import { type HeaderEntry, headerLine, type SnapInfo, snapInfo } from './snapshot-pieces.js';

export interface BuilderOptions {
  /** `prometheus` (default) or `openmetrics`: decided up front, points are rendered at add. */
  readonly format?: ExpositionFormat;
  /** Told about every data point skipped whole; `snapshotIndex` is the point's slot. */
  readonly onSkip?: (skip: SkippedData) => void;
  /**
   * Bytes each family (full name) took last time, kept by the caller from one build to
   * the next of the same format: a family's buffer starts at that size (plus slack)
   * instead of growing by doubling. finish() rewrites it with this build's families.
   * Shared by concurrent builds freely: it only ever holds hints.
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

/** Builder misuse (a slot filled twice, add after finish). */
export class BuilderStateError extends Error {
  override readonly name = 'BuilderStateError';
}

/** A family buffer's first size: its last size plus 1/8 (counters grow digits), else 256 bytes. */
function familyBytes(hint: number | undefined): number {
  return hint === undefined || !(hint > 0) ? 256 : Math.min(hint + (hint >>> 3) + 64, 1 << 30);
}

/** A snapshot's unlabeled-line middle (the plain-point path); key offsets are into `bytes`. */
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

/** What a slot given in parts keeps of its first part, for the later ones to match and reuse. */
interface PartsOf {
  readonly exporterPrefix: string;
  readonly info: SnapInfo;
  readonly groups: Map<string, FamilyStore>;
}

/** What one finishPieces call threads through its families. */
interface FamilyPass {
  readonly out: PieceList;
  readonly written: Set<string>;
  /** Per slot: 1 when its separator value is its own (no other slot shares it). */
  readonly unique: Uint8Array;
  /** Per separator value: the stamp of the last family that saw it (no Set per family). */
  readonly stamps: Int32Array;
  stamp: number;
}

export class ExpositionBuilder {
  private readonly om: boolean;
  private readonly onSkip: ((skip: SkippedData) => void) | undefined;
  private readonly sizeHints: Map<string, number> | undefined;
  private readonly pool: FamilyPool | undefined;
  /** Small pieces (header, preambles, trailer, plain sections) are drawn here, then copied out. */
  private readonly scratch = Buffer.allocUnsafe(4096);
  /** The one writer; its `buf` is pointed at a family's buffer while rendering into it. */
  private readonly w = new LineWriter(this.scratch);
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
    const entry: SlotInfo = {
      count: snapshot.length,
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
   * arrive). Every part must carry the first part's `when`, exporter prefix, extra labels
   * (the same object) and distinctSeries, which then vouches for all of the parts
   * together. The part is not kept: the caller may reuse its objects for the next one.
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

  /** A snapshot's (or part's) points into their families, in order. No point is kept: a reader may reuse it. */
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
    for (let i = 0; i < n; i++) {
      const d = points.pointAt(i);
      const metric = d.metric;
      if (metric !== lastMetric) {
        // runsc sends a metric's points together: one lookup per run of them.
        store = groups.get(metric.name);
        if (store === undefined) {
          store = this.storeFor(exporterPrefix + metric.name);
          groups.set(metric.name, store);
        }
        lastMetric = metric;
      }
      if (plain !== undefined && d.labels === NO_LABELS) {
        const value = fastIntValue(d.number);
        if (!Number.isNaN(value) && this.addPlain(store!, slot, plain, info.tsSuffix, metric, value)) continue;
      }
      this.addPoint(store!, slot, info, d);
    }
  }

  private storeFor(full: string): FamilyStore {
    let store = this.families.get(full);
    if (store !== undefined) return store;
    const bytes = familyBytes(this.sizeHints?.get(full));
    store = newFamilyStore(full, this.om, {
      buf: this.pool?.takeBuffer(full, bytes) ?? Buffer.allocUnsafe(bytes),
      columns: this.pool?.takeColumns(full),
    });
    this.families.set(full, store);
    return store;
  }

  /**
   * What every unlabeled sample line of a snapshot has between its name and its value:
   * the label section of the extra labels alone, then the space. Rendered once per
   * snapshot by the label writer itself, so the plain-point path cannot disagree with it.
   */
  private plainSection(info: SnapInfo): PlainSection {
    const w = this.w;
    w.buf = this.scratch;
    w.pos = 0;
    const cs = w.writeLabelSection(this.unlabeled, null, info) as number; // no point labels: no error
    const keyEnd = cs < w.pos ? w.pos - 1 : cs;
    w.byte(0x20);
    return { bytes: Buffer.from(w.buf.subarray(0, w.pos)), keyStart: cs, keyEnd };
  }

  /**
   * The plain-point path: an unlabeled int point of a duplicate-free snapshot, as copies
   * (~9 in 10 points at N = 1000; the general path's label work per point was ~2x slower).
   * False, having changed nothing, when a rule needs the general path: an invalid name, a
   * histogram or unknown type, or a segment whose duplicate check is running.
   */
  private addPlain(
    store: FamilyStore,
    slot: number,
    plain: PlainSection,
    tsSuffix: Uint8Array,
    metric: Metric,
    value: number,
  ): boolean {
    const type = metric.type;
    if (store.invalid !== undefined || !isSingleLineType(type)) return false;
    if (store.lastSlot === slot && !store.curVouched) return false;
    noteType(store, slot, type);
    const name = type === MetricType.Counter ? store.counterBytes : store.nameBytes;
    const section = plain.bytes;
    const w = this.w;
    const start = store.len;
    w.buf = store.buf;
    w.pos = start;
    w.ensure(name.length + section.length + MAX_INTEGER_BYTES + tsSuffix.length);
    const buf = w.buf;
    buf.set(name, start);
    const at = start + name.length;
    buf.set(section, at);
    w.pos = at + section.length;
    w.integer(value); // room ensured above: the buffer stays `buf`
    buf.set(tsSuffix, w.pos);
    store.buf = buf;
    store.len = w.pos + tsSuffix.length;
    recordPoint(store, slot, type, start, at + plain.keyStart, at + plain.keyEnd, true, metric);
    return true;
  }

  /** The general path: the per-point rules that need only this snapshot, then the point into its family's buffer. */
  private addPoint(store: FamilyStore, slot: number, info: SnapInfo, d: Data): void {
    const name = store.name;
    if (store.invalid !== undefined) {
      this.skip(slot, name, store.invalid);
      return;
    }
    const type = d.metric.type;
    const known = isKnownType(type);
    if (known) noteType(store, slot, type);
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
    // A snapshot vouched free of duplicates needs no set while no point of the segment lost
    // a label to an extra label (which can merge two label sets); from the first such point
    // on, the set is kept, filled first from every earlier point of the segment.
    const sameSlot = store.lastSlot === slot;
    const single = singleLabelKey(d.labels);
    const vouched =
      info.distinctSeries &&
      (!sameSlot || store.curVouched) &&
      (info.extraKeys.length === 0 || single === null || (single !== MANY && !Object.hasOwn(info.extraLabels, single)));
    const seen = sameSlot && !vouched ? segmentSeen(store, type) : undefined;

    const w = this.w;
    const start = store.len;
    w.buf = store.buf;
    w.pos = start;
    const err =
      type === MetricType.Histogram
        ? w.writeHistogram(histogramNamesOf(store), d, info, seen, this.om)
        : w.writeSample(type === MetricType.Counter ? store.counterName : name, d, single, info, seen);
    store.buf = w.buf;
    if (err !== undefined) {
      this.skip(slot, name, err); // nothing partial: store.len is unchanged
      return;
    }
    store.len = w.pos;
    recordPoint(store, slot, type, start, w.keyStart, w.keyEnd, vouched, d.metric);
  }

  private skip(slot: number, metric: string, reason: string): void {
    this.onSkip?.({ snapshotIndex: slot, metric, reason });
  }

  /**
   * The whole exposition. Applies the rules that need every snapshot, in this order:
   * family name order, histogram series clashes, OpenMetrics name clashes, the first
   * written type of a family wins, duplicates across snapshots unless a label tells them
   * apart. Reserved slots never added are left out.
   */
  finish(options: FinishOptions = {}): Buffer {
    const rendered = this.finishPieces(options);
    const body = Buffer.concat(rendered.pieces, rendered.bytes);
    rendered.release();
    return body;
  }

  /**
   * As finish(), but the body as the pieces to send in order, without the copy into one
   * buffer (see pieces.ts). The pieces are immutable; share them freely.
   */
  finishPieces(options: FinishOptions = {}): RenderedPieces {
    if (this.finished) throw new BuilderStateError('finish() called twice');
    this.finished = true;
    const om = this.om;
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
    if (!om) this.writeSmall(out, () => this.w.writeHeader(options.commentHeader ?? '', infos));

    const separatorValues = assignSeparators(infos);
    const pass: FamilyPass = {
      out,
      written: options.metricsWritten ?? new Set<string>(),
      unique: this.uniqueSlots(separatorValues),
      stamps: new Int32Array(separatorValues),
      stamp: 0,
    };
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
        const reason = `name collides with the ${JSON.stringify(name)} series of histogram ${JSON.stringify(owner)}`;
        this.skipWritten(store, reason);
        continue;
      }
      const familyName = omFamily === undefined ? name : omFamily.get(name);
      if (familyName === undefined) continue; // an OpenMetrics clash, reported above
      if (store.segments.length > 0) this.writeFamily(pass, store, familyName);
    }
    this.writeSmall(out, () => this.w.ascii(om ? '# EOF\n' : '\n# End of metric data.\n'));
    const hints = this.sizeHints;
    if (hints !== undefined) {
      hints.clear();
      for (const [name, store] of this.families) hints.set(name, store.len);
    }
    return this.handOver(out);
  }

  /** Per slot, 1 when it has a separator value no other slot has (after assignSeparators). */
  private uniqueSlots(separatorValues: number): Uint8Array {
    const slots = this.slots;
    const holders = new Int32Array(separatorValues);
    for (const info of slots) if (info !== undefined && info.separatorId >= 0) holders[info.separatorId]!++;
    const unique = new Uint8Array(slots.length);
    for (let s = 0; s < slots.length; s++) {
      const id = slots[s]?.separatorId ?? -1;
      if (id >= 0 && holders[id] === 1) unique[s] = 1;
    }
    return unique;
  }

  /** The builder lets go of everything: the pieces are what callers keep (pieces.ts says how they are released). */
  private handOver(out: PieceList): RenderedPieces {
    const stores = [...this.families.values()];
    this.families.clear();
    this.byPrefix.clear();
    this.w.buf = this.scratch; // no view of the last family's buffer stays here
    return out.handOver(stores, this.pool);
  }

  /** Reports every written point of `store` as skipped with `reason`. */
  private skipWritten(store: FamilyStore, reason: string): void {
    const nSeg = store.segments.length / SEG;
    for (let g = 0; g < nSeg; g++) {
      const slot = store.segments.data[g * SEG]!;
      for (let q = store.segments.data[g * SEG + 1]!; q < segmentEnd(store, g); q++)
        this.skip(slot, store.name, reason);
    }
  }

  /** A small piece (header, preamble, trailer) drawn in the scratch buffer, then copied out. */
  private writeSmall(out: PieceList, draw: () => void): void {
    const w = this.w;
    w.buf = this.scratch;
    w.pos = 0;
    draw();
    out.add(Buffer.from(w.buf.subarray(0, w.pos)));
  }

  /**
   * One family's points in slot order, under the rules that need every snapshot. A method
   * with no per-call closures, so its optimized code serves every scrape.
   */
  private writeFamily(pass: FamilyPass, store: FamilyStore, familyName: string): void {
    const shape = familyShape(store, pass.unique);
    const familyType = shape.familyType;
    // OpenMetrics: a counter's samples were named at add from the name alone; the family
    // name (decided from the first point of a known type, written or not) can disagree.
    const rename =
      this.om && familyType === MetricType.Counter && `${familyName}_total` !== store.counterName
        ? Buffer.from(`${familyName}_total`, 'latin1')
        : undefined;
    const out = pass.out;
    const pts = store.points.data;
    if (shape.apart && shape.order === null && shape.oneType && rename === undefined) {
      // The whole-family copy: the buffer as rendered, in O(1) rather than per point
      // (every family of a real scrape; per-point copying was ~4% of a scrape at N = 1000).
      let start = pts[PT_START]!;
      if (!pass.written.has(store.name)) start = this.familyPreamble(pass, store, familyName, familyType, start);
      out.copy(store.buf, start, store.len);
      return;
    }
    const segs = store.segments.data;
    const nSeg = store.segments.length / SEG;
    const order = shape.order;
    const crossSeen = shape.apart || this.separated(pass, store, order) ? undefined : new Set<string>();
    let preambleDue = !pass.written.has(store.name);
    for (let i = 0; i < nSeg; i++) {
      const g = order === null ? i : order[i]!;
      const slot = segs[g * SEG]!;
      for (let q = segs[g * SEG + 1]!; q < segmentEnd(store, g); q++) {
        const type = pts[q * PT + PT_TYPE]!;
        if (type !== familyType) {
          const reason =
            `metric type ${TYPE_NAMES[type]!} conflicts with ${TYPE_NAMES[familyType]!} already ` +
            `written for this name`;
          this.skip(slot, store.name, reason);
          continue;
        }
        if (crossSeen !== undefined) {
          const key = store.buf.toString('latin1', pts[q * PT + PT_KEY_START]!, pts[q * PT + PT_KEY_END]!);
          if (crossSeen.has(key)) {
            this.skip(slot, store.name, DUPLICATE);
            continue;
          }
          crossSeen.add(key);
        }
        let start = pts[q * PT + PT_START]!;
        if (preambleDue) {
          start = this.familyPreamble(pass, store, familyName, familyType, start);
          preambleDue = false;
        }
        if (rename === undefined) {
          out.copy(store.buf, start, pointEnd(store, q));
        } else {
          out.add(rename);
          out.copy(store.buf, start + store.counterName.length, pointEnd(store, q));
        }
      }
    }
  }

  /** Every segment's slot has a separator value no other segment of the family shares: no duplicates across them. */
  private separated(pass: FamilyPass, store: FamilyStore, order: readonly number[] | null): boolean {
    const thisStamp = ++pass.stamp;
    const stamps = pass.stamps;
    const segs = store.segments.data;
    const nSeg = store.segments.length / SEG;
    for (let i = 0; i < nSeg; i++) {
      const g = order === null ? i : order[i]!;
      const id = this.slots[segs[g * SEG]!]!.separatorId;
      if (id < 0 || stamps[id] === thisStamp) return false;
      stamps[id] = thisStamp;
    }
    return true;
  }

  /**
   * The family's HELP/TYPE, due before the first point written (of its lowest slot's
   * segment, of the family's type); returns where that point's bytes continue. A 0.0.4
   * histogram point opens with its blank line: the preamble goes after it.
   */
  private familyPreamble(
    pass: FamilyPass,
    store: FamilyStore,
    familyName: string,
    familyType: number,
    from: number,
  ): number {
    let at = from;
    if (familyType === MetricType.Histogram && !this.om) {
      pass.out.copy(store.buf, at, at + 1);
      at++;
    }
    this.writeSmall(pass.out, () => this.w.writePreamble(familyName, store.preambleMetric!, this.om));
    pass.written.add(store.name);
    return at;
  }
}
