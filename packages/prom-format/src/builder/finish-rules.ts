// The rules that need every snapshot, decided once at finish() per build or per family:
// which names a histogram's series take, which OpenMetrics family names clash, which
// extra label tells the snapshots apart, and what shape a family's segments have.
import type { Labels } from '../model.js';
import { MetricType } from '../model.js';
import { type FamilyStore, PT, PT_TYPE, SEG } from './family-store.js';
import { HISTOGRAM_SUFFIXES } from './lines.js';

/** Sample names an OpenMetrics family of each type owns besides (or instead of) its own name. */
const OM_SUFFIXES: readonly (readonly string[])[] = [
  [''],
  [''],
  ['_total', '_created'],
  ['_bucket', '_sum', '_count', '_created'],
];

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
 * whole (OpenMetrics forbids a name in two families). Once per build, O(families).
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
    if (histogramSeries?.has(name)) continue; // skipped (and reported) by the histogram rule in both formats
    const type = firstType(name);
    const family = type === MetricType.Counter && name.endsWith('_total') && name.length > 6 ? name.slice(0, -6) : name;
    const claims = [family, ...OM_SUFFIXES[type]!.map((suffix) => family + suffix)];
    const clash = claims.find((c) => owner.has(c));
    if (clash !== undefined) {
      skipFamily(
        name,
        `OpenMetrics name ${JSON.stringify(clash)} is already used by metric ${JSON.stringify(owner.get(clash))}`,
      );
      continue;
    }
    for (const c of claims) owner.set(c, name);
    out.set(name, family);
  }
  return out;
}

/** What separator assignment reads and writes of a snapshot. */
export interface SeparatorInfo {
  readonly extraKeys: readonly string[];
  readonly extraLabels: Labels;
  separatorId: number;
}

/**
 * Picks the extra label key with the most distinct values across snapshots (the
 * server's `sandbox`) and numbers its values; snapshots sharing a value share an id
 * (-1: the snapshot has no such label). Returns the number of ids. Once per build.
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

/** How a family's segments lie, which decides how finish() writes it. */
export interface FamilyShape {
  /** Segment indexes in slot order; null when they were added in slot order already. */
  readonly order: number[] | null;
  /** The type of the first point of the lowest slot: the family's type. */
  readonly familyType: number;
  /** Every point has the family's type. */
  readonly oneType: boolean;
  /** Each segment is of its own slot, and every slot carries its own separator value. */
  readonly apart: boolean;
}

/**
 * `unique[slot]` is 1 when the slot has a separator value no other slot has (see
 * assignSeparators): its points cannot repeat another slot's label set.
 */
export function familyShape(store: FamilyStore, unique: Uint8Array): FamilyShape {
  const segs = store.segments.data;
  const nSeg = store.segments.length / SEG;
  const pts = store.points.data;
  let sorted = true;
  let sameType = true;
  let keyed = true;
  const type0 = pts[segs[1]! * PT + PT_TYPE]!;
  let prev = -1;
  for (let g = 0; g < nSeg; g++) {
    const slot = segs[g * SEG]!;
    if (slot <= prev) sorted = false;
    prev = slot;
    if (pts[segs[g * SEG + 1]! * PT + PT_TYPE] !== type0) sameType = false;
    if (unique[slot] !== 1) keyed = false;
  }
  const order = sorted ? null : slotOrder(segs, nSeg);
  const familyType = order === null ? type0 : pts[segs[order[0]! * SEG + 1]! * PT + PT_TYPE]!;
  // Sorted means no slot has two segments here; unsorted, a slot given in parts may (they share its value).
  const apart = nSeg === 1 || (keyed && (sorted || noSlotTwice(segs, order!)));
  return { order, familyType, oneType: sameType && store.mixed === undefined, apart };
}

function slotOrder(segs: Uint32Array, nSeg: number): number[] {
  const order: number[] = [];
  for (let g = 0; g < nSeg; g++) order.push(g);
  return order.sort((a, b) => segs[a * SEG]! - segs[b * SEG]!);
}

function noSlotTwice(segs: Uint32Array, order: readonly number[]): boolean {
  for (let i = 1; i < order.length; i++) if (segs[order[i]! * SEG] === segs[order[i - 1]! * SEG]) return false;
  return true;
}
