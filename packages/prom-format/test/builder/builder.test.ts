// The incremental builder must give byte-for-byte the reference serializer's output
// (test-support/exposition-reference.ts, the oracle: written from the format rules and
// sharing no code with the builder) for the same snapshots in slot order, whatever order
// they are added in, and report as many skips.
import { describe, expect, test } from 'vitest';
import {
  BuilderStateError,
  type Data,
  DecodedPoints,
  decodeExportResult,
  ExpositionBuilder,
  type ExpositionFormat,
  FamilyPool,
  type Labels,
  NO_LABELS,
  parseJson,
  pointsOf,
  type RenderedPieces,
  type SkippedData,
  type Snapshot,
  type SnapshotExport,
  type SnapshotPoints,
  snapshotOf,
  type WireNumber,
} from '../../src/index.js';
import { counter, exp, flt, gauge, histogram, int, T0 } from '../support/build.js';
import { readCapture } from '../support/captures.js';
import { type ReferenceSkip, referenceExposition, type SkipRule } from '../support/exposition-reference.js';
import { expectPromtoolAccepts } from '../support/promtool.js';
import { rng } from '../support/rng.js';

// Small alphabets so collisions (same family across prefixes, histogram series names,
// OpenMetrics `_total` clashes, duplicate label sets, type conflicts) happen often.
const NAMES = ['a', 'b', 'a_total', 'h', 'h_bucket', 'h_count', 'x_sum', 'meta_a', '9bad', 'c'];
const PREFIXES = ['', 'runsc_', 'runsc_', 'runsc_meta_', 'p_'];
const TYPES = [0, 1, 1, 2, 2, 3, 3, 9];
const LABEL_KEYS = ['f', 'g', 'le', 'sandbox', '__bad', 'z'];
const LABEL_VALUES = ['1', '2', 'a"b', 'line\nbreak', 'ü', ''];
const HELPS = ['', 'help one', 'help\\two\nlines'];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

function randomNumber(r: () => number): WireNumber | undefined {
  const k = r();
  if (k < 0.05) return undefined;
  if (k < 0.6) return int(Math.floor(r() * 5));
  if (k < 0.7) return int(2n ** 60n + 3n);
  if (k < 0.8) return flt(r() < 0.5 ? 1.5 : Number.NaN);
  if (k < 0.9) return int(-7);
  return { int: 0, float: 0 };
}

function randomPoint(r: () => number): Data {
  const name = pick(r, NAMES);
  const type = pick(r, TYPES);
  const help = pick(r, HELPS);
  const labels: Record<string, string> = {};
  const nLabels = r() < 0.4 ? 0 : r() < 0.8 ? 1 : 2;
  for (let i = 0; i < nLabels; i++) labels[pick(r, LABEL_KEYS)] = pick(r, LABEL_VALUES);
  if (type === 3 && r() < 0.9) {
    const buckets = [
      { upperBound: int(0), samples: Math.floor(r() * 3) },
      { upperBound: int(10), samples: Math.floor(r() * 3) },
      { upperBound: flt(r() < 0.5 ? Infinity : 100), samples: 1 },
    ];
    return histogram(
      name,
      { total: int(5), min: int(0), max: int(9), sumOfSquaredDeviations: flt(2.5), buckets },
      labels,
      help,
    );
  }
  const n = randomNumber(r);
  return n === undefined
    ? { metric: { name, type, help }, labels }
    : { metric: { name, type, help }, labels, number: n };
}

/** What the generators make: exports of plain snapshots, which the renderers read through pointsOf. */
type PlainExport = Omit<SnapshotExport, 'snapshot'> & { readonly snapshot: Snapshot | SnapshotPoints };
const isPoints = (s: Snapshot | SnapshotPoints): s is SnapshotPoints => 'pointAt' in s;
const live = (e: PlainExport): SnapshotExport => ({
  ...e,
  snapshot: isPoints(e.snapshot) ? e.snapshot : pointsOf(e.snapshot),
});
const dataOf = (e: PlainExport): readonly Data[] => {
  const s = e.snapshot;
  return isPoints(s) ? snapshotOf(s).data : s.data;
};

function randomExports(r: () => number): (PlainExport & { snapshot: Snapshot })[] {
  const n = 1 + Math.floor(r() * 6);
  const out: (PlainExport & { snapshot: Snapshot })[] = [];
  for (let s = 0; s < n; s++) {
    const data: Data[] = [];
    const points = Math.floor(r() * 8);
    for (let i = 0; i < points; i++) data.push(randomPoint(r));
    const k = r();
    // Mostly the server's shape (own `sandbox` value), sometimes none, shared or invalid.
    const extra: Labels =
      k < 0.6
        ? { sandbox: `s${s}`, pod: 'p' }
        : k < 0.75
          ? {}
          : k < 0.9
            ? { sandbox: 's0' }
            : k < 0.95
              ? { le: 'x', sandbox: `s${s}` }
              : { 'bad-key': 'v' };
    out.push({
      snapshot: { when: { seconds: T0.seconds + s, nanos: r() < 0.5 ? 0 : 123456789 }, data },
      exporterPrefix: pick(r, PREFIXES),
      extraLabels: extra,
    });
  }
  return out;
}

/** The oracle's exposition of the exports in slot order (plain `{when, data}` snapshots). */
function viaReference(
  exports: PlainExport[],
  format: ExpositionFormat,
  written: ReadonlySet<string>,
): { text: string; skips: ReferenceSkip[]; written: ReadonlySet<string> } {
  const snapshots = exports.map((e) => ({
    when: e.snapshot.when,
    data: dataOf(e),
    exporterPrefix: e.exporterPrefix,
    extraLabels: e.extraLabels,
  }));
  const r = referenceExposition(snapshots, { format, commentHeader: 'hdr\nsecond', metricsWritten: written });
  return { text: r.text, skips: [...r.skipped], written: r.metricsWritten };
}

const SIZE_HINTS = new Map<string, number>();
/** One pool across every call, so builds render into buffers other random sets left there. */
const POOL = new FamilyPool();
/**
 * Bodies not yet released, oldest first: later builds share their pool, so each must still
 * read as rendered when it is released (two builds later).
 */
const HELD: { rendered: RenderedPieces; text: string }[] = [];

function viaBuilder(
  exports: PlainExport[],
  format: ExpositionFormat,
  written: Set<string>,
  order: number[],
): { text: string; skips: SkippedData[] } {
  const skips: SkippedData[] = [];
  // One hint map across every call: families start at sizes other random sets left there.
  const b = new ExpositionBuilder({ format, onSkip: (s) => skips.push(s), sizeHints: SIZE_HINTS, pool: POOL });
  const slots = exports.map(() => b.reserve());
  for (const i of order) b.add(live(exports[i]!), slots[i]!);
  const rendered = b.finishPieces({ commentHeader: 'hdr\nsecond', metricsWritten: written });
  const text = Buffer.concat(rendered.pieces, rendered.bytes).toString('utf8');
  HELD.push({ rendered, text });
  if (HELD.length > 2) {
    const old = HELD.shift()!;
    const now = Buffer.concat(old.rendered.pieces, old.rendered.bytes).toString('utf8');
    if (now !== old.text) expect(now).toBe(old.text);
    old.rendered.release();
  }
  return { text, skips };
}

function shuffled(r: () => number, n: number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** Skipped points as sorted `slot name` rows: the builder and the oracle must skip as many of each. */
const skipCounts = (skips: readonly (SkippedData | ReferenceSkip)[]): string[] =>
  skips.map((s) => `${'slot' in s ? s.slot : s.snapshotIndex} ${s.metric}`).sort();

const reached = (skips: readonly ReferenceSkip[], rule: SkipRule): boolean => skips.some((s) => s.rule === rule);

describe('same bytes as the reference serializer', () => {
  for (const format of ['prometheus', 'openmetrics'] as const) {
    test(`${format}: 3000 random snapshot sets, random add order`, () => {
      let collisions = 0;
      for (let seed = 1; seed <= 3000; seed++) {
        const r = rng(seed);
        const exports = randomExports(r);
        const preWritten = r() < 0.1 ? ['runsc_a'] : [];
        const w = viaReference(exports, format, new Set(preWritten));
        const written = new Set(preWritten);
        const b = viaBuilder(exports, format, written, shuffled(r, exports.length));
        if (b.text !== w.text) expect({ seed, text: b.text }).toEqual({ seed, text: w.text });
        // Each point is reported once by both (the reason may differ when several rules hit it).
        if (skipCounts(b.skips).join('|') !== skipCounts(w.skips).join('|')) {
          expect({ seed, skips: skipCounts(b.skips) }).toEqual({ seed, skips: skipCounts(w.skips) });
        }
        if ([...written].sort().join('|') !== [...w.written].sort().join('|')) {
          expect({ seed, written: [...written].sort() }).toEqual({ seed, written: [...w.written].sort() });
        }
        if (reached(w.skips, 'duplicate') && reached(w.skips, 'type-conflict')) collisions++;
      }
      // The generator reaches the interesting rules (otherwise this test proves little).
      expect(collisions).toBeGreaterThan(50);
    });
  }

  // Frozen label objects take the cached paths (sections for snapshots without extra
  // labels; sorted, encoded extra labels): the same bytes and skips as fresh unfrozen
  // copies, with objects shared across points, snapshots and renders so the cache is hit,
  // duplicates included.
  test('frozen label objects (cached sections): same bytes and skips as unfrozen copies, 3000 random sets', () => {
    const pool = new Map<string, Labels>();
    const frozen = (l: Labels): Labels => {
      const key = JSON.stringify(Object.entries(l));
      let f = pool.get(key);
      if (f === undefined) {
        f = Object.freeze({ ...l });
        pool.set(key, f);
      }
      return f;
    };
    let cachedDuplicates = 0;
    for (let seed = 1; seed <= 3000; seed++) {
      const r = rng(seed);
      const format = r() < 0.5 ? 'prometheus' : 'openmetrics';
      // Half the snapshots without extra labels (where the cache applies), each point twice
      // now and then (a duplicate series to be skipped).
      const plain = randomExports(r).map((e) => {
        const data = r() < 0.3 ? e.snapshot.data.flatMap((d) => (r() < 0.5 ? [d, d] : [d])) : e.snapshot.data;
        return { ...e, snapshot: { ...e.snapshot, data }, extraLabels: r() < 0.5 ? {} : e.extraLabels };
      });
      // Extra labels frozen too (their sorted keys, encoded pairs and header text are cached).
      const withFrozen = plain.map((e) => ({
        ...e,
        extraLabels: frozen(e.extraLabels),
        snapshot: { ...e.snapshot, data: e.snapshot.data.map((d) => ({ ...d, labels: frozen(d.labels) })) },
      }));
      const order = shuffled(r, plain.length);
      const want = viaReference(plain, format, new Set());
      const got = viaBuilder(withFrozen, format, new Set(), order);
      const same = viaBuilder(plain, format, new Set(), order);
      for (const b of [got, same]) {
        if (b.text !== want.text) expect({ seed, text: b.text }).toEqual({ seed, text: want.text });
        if (skipCounts(b.skips).join('|') !== skipCounts(want.skips).join('|')) {
          expect({ seed, skips: skipCounts(b.skips) }).toEqual({ seed, skips: skipCounts(want.skips) });
        }
      }
      // The builder reports the same skips, reasons and order included, with or without the cache.
      const line = (k: SkippedData): string => `${k.snapshotIndex} ${k.metric} ${k.reason}`;
      if (got.skips.map(line).join('|') !== same.skips.map(line).join('|'))
        expect({ seed, skips: got.skips }).toEqual({ seed, skips: same.skips });
      if (reached(want.skips, 'duplicate') && plain.some((e) => Object.keys(e.extraLabels).length === 0))
        cachedDuplicates++;
    }
    // The generator reaches duplicates in snapshots the cache applies to.
    expect(cachedDuplicates).toBeGreaterThan(100);
    expect(pool.size).toBeGreaterThan(20);
  });

  // A verified snapshot has no series twice; the hint skips the builder's duplicate check
  // within it. Extra labels can still merge two of its label sets (an extra `sandbox`
  // drops the point's own), and those duplicates must still be left out.
  test('distinctSeries: same bytes and skips as the reference for duplicate-free snapshots, merged label sets included', () => {
    let merged = 0;
    for (let seed = 1; seed <= 3000; seed++) {
      const r = rng(seed);
      const format = r() < 0.5 ? 'prometheus' : 'openmetrics';
      const distinct = randomExports(r).map((e) => {
        const seen = new Set<string>();
        const data = e.snapshot.data.filter((d) => {
          const key = `${d.metric.name} ${JSON.stringify(Object.entries(d.labels).sort())}`;
          if (seen.has(key)) return false;
          seen.add(key);
          return true;
        });
        return { ...e, snapshot: { ...e.snapshot, data } };
      });
      const vouched = distinct.map((e) => ({ ...e, distinctSeries: true }));
      const order = shuffled(r, distinct.length);
      const want = viaReference(distinct, format, new Set());
      const got = viaBuilder(vouched, format, new Set(), order);
      if (got.text !== want.text) expect({ seed, text: got.text }).toEqual({ seed, text: want.text });
      if (skipCounts(got.skips).join('|') !== skipCounts(want.skips).join('|')) {
        expect({ seed, skips: skipCounts(got.skips) }).toEqual({ seed, skips: skipCounts(want.skips) });
      }
      if (want.skips.some((k) => k.rule === 'duplicate' && distinct[k.slot]!.snapshot.data.length > 1)) merged++;
    }
    // The generator reaches label sets merged by extra labels (otherwise this proves little).
    expect(merged).toBeGreaterThan(30);
  });

  // The canonical decoder's snapshots are columns read through one scratch Data: they
  // must render exactly as their plain `data` does, duplicates, merged label sets, bad
  // names and the duplicate-free hint included.
  test('DecodedPoints: same bytes and skips as the reference of its plain data, 3000 random sets', () => {
    const metrics = NAMES.flatMap((name) =>
      [0, 1, 2].map((type) => Object.freeze({ name, type, help: pick(rng(name.length + type), HELPS) })),
    );
    const plainLabels: Labels[] = [
      {},
      { f: '1' },
      { f: '2' },
      { g: 'a"b' },
      { sandbox: 'x' },
      { le: '1' },
      { __bad: 'v' },
      { f: 'ü' },
    ];
    // NO_LABELS (what the decoder gives an unlabeled point) takes the builder's plain path,
    // three times as often as the rest; a frozen `{}` of its own takes the general one.
    const labelPool = [NO_LABELS, NO_LABELS, NO_LABELS, ...plainLabels.map((l): Labels => Object.freeze(l))];
    let plainCandidates = 0;
    const ints = [0, 1, 7, -3, 2 ** 31 + 5, 999_999_999_999_999];
    let canonicalPoints = 0;
    for (let seed = 1; seed <= 3000; seed++) {
      const r = rng(seed);
      const format = r() < 0.5 ? 'prometheus' : 'openmetrics';
      const canonical = randomExports(r).map((e) => {
        const n = Math.floor(r() * 10);
        const snap = new DecodedPoints();
        snap.when = e.snapshot.when;
        for (let k = 0; k < n; k++) {
          snap.metrics.push(pick(r, metrics));
          snap.labels.push(pick(r, labelPool));
          snap.ints.push(pick(r, ints));
        }
        snap.length = n;
        canonicalPoints += n;
        return { ...e, snapshot: snap, distinctSeries: r() < 0.5 };
      });
      const asPlain = canonical.map((e) => ({
        ...e,
        distinctSeries: false,
        snapshot: e.snapshot.toSnapshot(),
      }));
      const order = shuffled(r, canonical.length);
      const want = viaReference(asPlain, format, new Set());
      // Hinted sets are only compared when the hint holds (no series twice in a snapshot).
      const honest = canonical.map((e) => {
        const keys = dataOf(e).map((d) => `${d.metric.name} ${JSON.stringify(d.labels)}`);
        return e.distinctSeries && new Set(keys).size !== keys.length ? { ...e, distinctSeries: false } : e;
      });
      const got = viaBuilder(honest, format, new Set(), order);
      if (got.text !== want.text) expect({ seed, text: got.text }).toEqual({ seed, text: want.text });
      if (skipCounts(got.skips).join('|') !== skipCounts(want.skips).join('|')) {
        expect({ seed, skips: skipCounts(got.skips) }).toEqual({ seed, skips: skipCounts(want.skips) });
      }
      for (const e of honest) {
        if (!e.distinctSeries) continue;
        for (const l of e.snapshot.labels) if (l === NO_LABELS) plainCandidates++;
      }
    }
    expect(canonicalPoints).toBeGreaterThan(30_000);
    // The plain path is reached often, under every kind of extra labels the generator makes.
    expect(plainCandidates).toBeGreaterThan(3_000);
  });

  // A slot given in parts (addPart) renders as the snapshot of all its parts, whatever
  // other slots' points come between them, so its points can meet another slot's in a
  // family more than once (sandboxes registering `meta_*` names meet the server's meta
  // snapshot that way). Duplicates within the slot across such runs must still go.
  test('parts: a slot given in parts, interleaved with other slots, as the whole snapshot; 3000 random sets', () => {
    let interleaved = 0;
    for (let seed = 1; seed <= 3000; seed++) {
      const r = rng(seed);
      const format = r() < 0.5 ? 'prometheus' : 'openmetrics';
      const exports = randomExports(r).map((e, i): PlainExport & { snapshot: Snapshot } => {
        if (r() < 0.5) {
          // Series twice within the snapshot, and each slot its own `sandbox` (then only the
          // builder's own checks keep a slot's parts from repeating a series).
          const data = e.snapshot.data.flatMap((d) => (r() < 0.3 ? [d, d] : [d]));
          return {
            ...e,
            snapshot: { ...e.snapshot, data },
            extraLabels: r() < 0.7 ? { sandbox: `own${i}` } : e.extraLabels,
          };
        }
        // Vouched only when honest: no metric name and label set twice in the whole snapshot.
        const keys = e.snapshot.data.map((d) => `${d.metric.name} ${JSON.stringify(Object.entries(d.labels).sort())}`);
        return new Set(keys).size === keys.length ? { ...e, distinctSeries: true } : e;
      });
      // Each slot's events: one whole add, or its points cut into 1-4 parts (empty ones included).
      const events: { slot: number; part: PlainExport | undefined }[][] = exports.map((e, slot) => {
        if (r() < 0.3) return [{ slot, part: undefined }];
        const data = e.snapshot.data;
        const cuts = Array.from({ length: Math.floor(r() * 4) }, () => Math.floor(r() * (data.length + 1))).sort(
          (a, b) => a - b,
        );
        const bounds = [0, ...cuts, data.length];
        return bounds.slice(1).map((to, i) => ({
          slot,
          part: { ...e, snapshot: { when: e.snapshot.when, data: data.slice(bounds[i], to) } },
        }));
      });
      const want = viaReference(exports, format, new Set());
      const skips: SkippedData[] = [];
      const b = new ExpositionBuilder({ format, onSkip: (k) => skips.push(k), sizeHints: SIZE_HINTS, pool: POOL });
      const slots = exports.map(() => b.reserve());
      // A random merge of the slots' event lists (each slot's parts stay in order).
      const next = events.map(() => 0);
      const namesSince = exports.map(() => new Set<string>());
      let left = events.reduce((n, ev) => n + ev.length, 0);
      while (left > 0) {
        const open = events.flatMap((ev, i) => (next[i]! < ev.length ? [i] : []));
        const i = pick(r, open);
        const ev = events[i]![next[i]!++]!;
        left--;
        const e = exports[i]!;
        const names = dataOf(ev.part ?? e).map((d) => e.exporterPrefix + d.metric.name);
        if (ev.part === undefined) b.add(live(e), slots[i]!);
        else {
          // A part meeting a family that another slot wrote to since this slot's earlier part.
          if (next[i]! > 1 && names.some((n) => namesSince[i]!.has(n))) interleaved++;
          namesSince[i]!.clear();
          b.addPart(live(ev.part), slots[i]!);
        }
        for (let j = 0; j < exports.length; j++) if (j !== i) for (const n of names) namesSince[j]!.add(n);
      }
      const rendered = b.finishPieces({ commentHeader: 'hdr\nsecond', metricsWritten: new Set() });
      const text = Buffer.concat(rendered.pieces, rendered.bytes).toString('utf8');
      rendered.release();
      if (text !== want.text) expect({ seed, text }).toEqual({ seed, text: want.text });
      if (skipCounts(skips).join('|') !== skipCounts(want.skips).join('|')) {
        expect({ seed, skips: skipCounts(skips) }).toEqual({ seed, skips: skipCounts(want.skips) });
      }
    }
    // The generator brings a slot's parts back to families other slots wrote in between.
    expect(interleaved).toBeGreaterThan(300);
  });

  test('a fleet of the real capture, added in completion order, meta slots reserved first', () => {
    const raw = parseJson(readCapture('export-metrics.wire.json')) as {
      result: unknown;
    };
    const { snapshot } = decodeExportResult(raw.result);
    const meta = exp([gauge('num_sandboxes_total', int(40), {}, 'Number of sandboxes.')], {}, 'runsc_meta_');
    const proc = exp([gauge('process_start_time_seconds', flt(1.7e9), {}, 'Start time.')]);
    const sandboxes = Array.from({ length: 40 }, (_, i) => ({
      snapshot: pointsOf(snapshot),
      exporterPrefix: 'runsc_',
      extraLabels: { sandbox: `sb-${i}`, iteration: 'it' },
    }));
    const all = [meta, proc, ...sandboxes];
    const w = viaReference(all, 'prometheus', new Set());
    const b = new ExpositionBuilder();
    const metaSlot = b.reserve();
    const procSlot = b.reserve();
    for (const s of sandboxes) b.add(s);
    b.add(proc, procSlot);
    b.add(meta, metaSlot);
    const text = b.finish({ commentHeader: 'hdr\nsecond' }).toString('utf8');
    expect(text).toBe(w.text);
    expectPromtoolAccepts(text);
  });
});

describe('size hints', () => {
  test("finish() leaves each family's size; the next build starts there and renders the same bytes", () => {
    const hints = new Map<string, number>([['gone_family', 5]]);
    const snapshot = pointsOf({
      when: T0,
      data: Array.from({ length: 300 }, (_, i) => gauge('g', int(i), { k: `v${i}` })),
    });
    const render = (): string => {
      const b = new ExpositionBuilder({ sizeHints: hints });
      b.add({ snapshot, exporterPrefix: 'p_', extraLabels: { sandbox: 's' } });
      return b.finish().toString('utf8');
    };
    const first = render();
    expect([...hints.keys()]).toEqual(['p_g']); // only this build's families
    const size = hints.get('p_g')!;
    expect(size).toBeGreaterThan(300 * 10);
    expect(render()).toBe(first);
    hints.set('p_g', 1); // a stale, too small hint: the buffer still grows
    expect(render()).toBe(first);
    expect(hints.get('p_g')).toBe(size);
  });
});

describe('slots', () => {
  test('a reserved slot never added is left out of the header', () => {
    const b = new ExpositionBuilder();
    b.reserve();
    b.add(exp([counter('c', int(1))], { sandbox: 'x' }));
    const text = b.finish().toString();
    expect(text).toContain('# Writing data from snapshot containing 1 data points taken at');
    expect(text).toContain('c{sandbox="x"} 1 ');
  });

  test('misuse is a typed error', () => {
    const b = new ExpositionBuilder();
    const s = b.reserve();
    b.add(exp([]), s);
    expect(() => b.add(exp([]), s)).toThrow(BuilderStateError);
    expect(() => b.add(exp([]), 7)).toThrow(BuilderStateError);
    b.finish();
    expect(() => b.add(exp([]))).toThrow(BuilderStateError);
    expect(() => b.finish()).toThrow(BuilderStateError);
  });

  test('parts: misuse is a typed error, and a slot given in parts counts every part in the header', () => {
    const b = new ExpositionBuilder();
    const whole = b.reserve();
    const inParts = b.reserve();
    const extra = { sandbox: 'x' };
    const part = (n: number): SnapshotExport => ({
      snapshot: pointsOf({ when: T0, data: [gauge('g', int(n), { k: `${n}` })] }),
      exporterPrefix: 'p_',
      extraLabels: extra,
    });
    b.add(exp([]), whole);
    expect(() => b.addPart(part(1), whole)).toThrow(BuilderStateError);
    b.addPart(part(1), inParts);
    b.addPart(part(2), inParts);
    expect(() => b.add(part(3), inParts)).toThrow(BuilderStateError);
    expect(() => b.addPart({ ...part(3), extraLabels: { sandbox: 'x' } }, inParts)).toThrow(BuilderStateError);
    expect(() => b.addPart({ ...part(3), exporterPrefix: 'q_' }, inParts)).toThrow(BuilderStateError);
    expect(() => b.addPart({ ...part(3), snapshot: pointsOf({ when: { ...T0 }, data: [] }) }, inParts)).toThrow(
      BuilderStateError,
    );
    expect(() => b.addPart({ ...part(3), distinctSeries: true }, inParts)).toThrow(BuilderStateError);
    expect(() => b.addPart(part(3), 9)).toThrow(BuilderStateError);
    const text = b.finish().toString();
    expect(text).toContain('Snapshot with 2 data points taken at');
    expect(text).toContain('p_g{k="1",sandbox="x"} 1 ');
    expect(text).toContain('p_g{k="2",sandbox="x"} 2 ');
    expect(() => b.addPart(part(4), inParts)).toThrow(BuilderStateError);
  });

  test('no snapshot: OpenMetrics still ends with # EOF, 0.0.4 is empty (as the reference)', () => {
    expect(new ExpositionBuilder({ format: 'openmetrics' }).finish().toString()).toBe('# EOF\n');
    expect(new ExpositionBuilder().finish().toString()).toBe('');
    expect(viaReference([], 'openmetrics', new Set()).text).toBe('# EOF\n');
    expect(viaReference([], 'prometheus', new Set()).text).toBe('');
  });

  test('a family buffer grows past its first size without losing bytes', () => {
    const long = 'v'.repeat(5000);
    const data = Array.from({ length: 50 }, (_, i) => gauge('g', int(i), { f: `${long}${i}` }));
    const e = exp(data, { sandbox: 'x' });
    const b = new ExpositionBuilder();
    b.add(e);
    const text = b.finish({ commentHeader: 'hdr\nsecond' }).toString();
    expect(text).toBe(viaReference([e], 'prometheus', new Set()).text);
  });
});
