// Everything added under one full metric name: its points rendered back to back in one
// buffer, in add order, and two tables saying where each point and each segment (a run
// of one slot's points) starts. Owned by one ExpositionBuilder: add() appends, finish()
// reads; the buffer outlives the build only as the body's pieces (see pieces.ts).
import type { Metric } from '../model.js';
import { MetricType } from '../model.js';
import { isValidMetricName } from '../names.js';
import { HISTOGRAM_SUFFIXES } from './lines.js';

/**
 * A growable column of unsigned 32-bit integers outside the JS heap: the GC neither
 * scans nor promotes it, which matters with ~170k points per scrape.
 */
export class Column {
  length = 0;
  /** `data` may be a pooled column: its old contents are past `length`, never read. */
  constructor(public data: Uint32Array = new Uint32Array(8)) {}

  private grow(need: number): void {
    let size = this.data.length * 2;
    while (size < need) size *= 2;
    const next = new Uint32Array(size);
    next.set(this.data);
    this.data = next;
  }

  push2(a: number, b: number): void {
    let n = this.length;
    if (n + 2 > this.data.length) this.grow(n + 2);
    const data = this.data;
    data[n++] = a;
    data[n++] = b;
    this.length = n;
  }

  /** One point's row at once: one capacity check. */
  push4(a: number, b: number, c: number, d: number): void {
    let n = this.length;
    if (n + 4 > this.data.length) this.grow(n + 4);
    const data = this.data;
    data[n++] = a;
    data[n++] = b;
    data[n++] = c;
    data[n++] = d;
    this.length = n;
  }
}

/** Point row: where its bytes start, its dedupe key's byte range, its type. */
export const PT = 4;
export const PT_START = 0;
export const PT_KEY_START = 1;
export const PT_KEY_END = 2;
export const PT_TYPE = 3;
/** Segment row: its slot, its first point. */
export const SEG = 2;

export interface FamilyStore {
  // ---- what the name decides (fixed at creation) ----
  readonly name: string;
  /** Why every point of it is refused (an invalid full name); reported at add. */
  readonly invalid: string | undefined;
  /** Sample name of counter points (OpenMetrics: `<family>_total`), and both names as bytes (valid names are ASCII). */
  readonly counterName: string;
  readonly nameBytes: Buffer;
  readonly counterBytes: Buffer;

  // ---- the rendered points ----
  buf: Buffer;
  len: number;
  readonly points: Column; // PT per written point
  readonly segments: Column; // SEG per segment
  /** Segments holding points of more than one type (hostile input only). */
  mixed: Set<number> | undefined;

  // ---- what finish() needs of every point added, written or skipped ----
  /** Lowest slot with a point of a known type, and that point's type (OpenMetrics naming). */
  firstTypeSlot: number;
  firstType: number;
  hasHistogram: boolean;
  /** Lowest slot with a segment, and its first point's metric: the HELP/TYPE source. */
  preambleSlot: number;
  preambleMetric: Metric | undefined;

  // ---- the last segment, which the next point of the same slot continues ----
  /** Its slot (-1: none yet) and its first point's type. */
  lastSlot: number;
  segType: number;
  /** Its dedupe sets per type, made when a point is not vouched duplicate-free. */
  curSeen: (Set<string> | undefined)[] | undefined;
  /** Every point of it so far is vouched duplicate-free (no sets kept for it). */
  curVouched: boolean;
  /** A histogram family's series names, made on first use. */
  histNames: readonly string[] | undefined;
}

/** What a new store's buffers come from. */
export interface StoreMemory {
  readonly buf: Buffer;
  readonly columns: readonly [Uint32Array, Uint32Array] | undefined;
}

export function newFamilyStore(full: string, om: boolean, memory: StoreMemory): FamilyStore {
  const invalid = isValidMetricName(full)
    ? undefined
    : `invalid metric name ${JSON.stringify(full)}: must match [a-zA-Z_:][a-zA-Z0-9_:]*`;
  const family = om && full.endsWith('_total') && full.length > 6 ? full.slice(0, -6) : full;
  const counterName = om ? `${family}_total` : full;
  const nameBytes = Buffer.from(full, 'latin1');
  return {
    name: full,
    invalid,
    counterName,
    nameBytes,
    counterBytes: counterName === full ? nameBytes : Buffer.from(counterName, 'latin1'),
    buf: memory.buf,
    len: 0,
    points: new Column(memory.columns?.[0]),
    segments: new Column(memory.columns?.[1]),
    mixed: undefined,
    firstTypeSlot: -1,
    firstType: 0,
    hasHistogram: false,
    preambleSlot: -1,
    preambleMetric: undefined,
    lastSlot: -1,
    segType: -1,
    curSeen: undefined,
    curVouched: false,
    histNames: undefined,
  };
}

/** Notes a point of `slot` (written or not) for the rules finish() applies to the whole family. */
export function noteType(store: FamilyStore, slot: number, type: number): void {
  if (type === MetricType.Histogram) store.hasHistogram = true;
  if (store.firstTypeSlot === -1 || slot < store.firstTypeSlot) {
    store.firstTypeSlot = slot;
    store.firstType = type;
  }
}

export function histogramNamesOf(store: FamilyStore): readonly string[] {
  store.histNames ??= HISTOGRAM_SUFFIXES.map((s) => store.name + s);
  return store.histNames;
}

/**
 * A point just written at `store.buf[start, store.len)`: its row, opening a segment when
 * the slot is not the last segment's. `vouched`: the point needs no dedupe set.
 */
export function recordPoint(
  store: FamilyStore,
  slot: number,
  type: number,
  start: number,
  keyStart: number,
  keyEnd: number,
  vouched: boolean,
  metric: Metric,
): void {
  const pts = store.points;
  if (store.lastSlot !== slot) {
    store.segments.push2(slot, pts.length / PT);
    store.lastSlot = slot;
    store.segType = type;
    store.curSeen = undefined; // the dedupe sets belong to the last segment
    store.curVouched = vouched;
    if (store.preambleSlot === -1 || slot < store.preambleSlot) {
      store.preambleSlot = slot;
      store.preambleMetric = metric;
    }
  } else if (type !== store.segType) {
    (store.mixed ??= new Set()).add(store.segments.length / SEG - 1);
  }
  pts.push4(start, keyStart, keyEnd, type);
}

/**
 * The dedupe set of the last segment for points of `type`, made on first need from
 * every point of that type the segment already has.
 */
export function segmentSeen(store: FamilyStore, type: number): Set<string> {
  store.curVouched = false;
  store.curSeen ??= [undefined, undefined, undefined, undefined];
  let seen = store.curSeen[type];
  if (seen === undefined) {
    seen = new Set();
    store.curSeen[type] = seen;
    const pts = store.points.data;
    const first = store.segments.data[store.segments.length - SEG + 1]!;
    for (let q = first * PT; q < store.points.length; q += PT) {
      if (pts[q + PT_TYPE] === type)
        seen.add(store.buf.toString('latin1', pts[q + PT_KEY_START]!, pts[q + PT_KEY_END]!));
    }
  }
  return seen;
}

/** Where point `q`'s bytes end: the next point's start, or the end of the rendered bytes. */
export function pointEnd(store: FamilyStore, q: number): number {
  return q + 1 < store.points.length / PT ? store.points.data[(q + 1) * PT + PT_START]! : store.len;
}

/** Where segment `g`'s points end (exclusive point index). */
export function segmentEnd(store: FamilyStore, g: number): number {
  return g + 1 < store.segments.length / SEG ? store.segments.data[(g + 1) * SEG + 1]! : store.points.length / PT;
}
