// The canonical fast path against the general decoder (parseJson + decodeExportResult),
// which defines what a reply means: whatever the fast path accepts, the general path
// must decode to a deep-equal snapshot. It must also take real replies (or it buys
// nothing) and never throw.
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ExpositionBuilder } from '../../src/builder/builder.js';
import { CanonicalSnapshotDecoder, DecodedPoints, goJsonString, type KnownMetric } from '../../src/canonical.js';
import { decodeExportResult } from '../../src/decode.js';
import { parseJson } from '../../src/json.js';
import type { Snapshot } from '../../src/model.js';
import { readCapture } from '../support/captures.js';
import { rng } from '../support/rng.js';

const ENVELOPE_HEAD = '{"success":true,"err":"","result":';
const fixture = (name: string): string => readCapture(name).trimEnd();

/** Decoded points as plain data (DecodedPoints are columns; `toSnapshot()` is what they mean). */
function plain(s: DecodedPoints | undefined): Snapshot | undefined {
  return s?.toSnapshot();
}

function fast(decoder: CanonicalSnapshotDecoder, reply: string): Snapshot | undefined {
  const bytes = Buffer.from(reply, 'utf8');
  return plain(decoder.decodeReply(bytes, bytes.length, new DecodedPoints()));
}

function general(reply: string): Snapshot | undefined {
  try {
    const env = parseJson(reply) as { result: unknown };
    return decodeExportResult(env.result).snapshot;
  } catch {
    return undefined;
  }
}

/** Known metrics read off replies (the definitions they carry, labels' only key and values). */
function knownFrom(...replies: string[]): KnownMetric[] {
  const byName = new Map<string, { metric: KnownMetric['metric']; field?: string; values: Set<string> }>();
  for (const r of replies) {
    for (const d of general(r)!.data) {
      const e = byName.get(d.metric.name) ?? { metric: d.metric, values: new Set<string>() };
      for (const [k, v] of Object.entries(d.labels)) {
        e.field = k;
        e.values.add(v);
      }
      byName.set(d.metric.name, e);
    }
  }
  return [...byName.values()].map((e) =>
    e.field === undefined
      ? { metric: e.metric }
      : { metric: e.metric, field: { name: e.field, allowedValues: [...e.values] } },
  );
}

describe('CanonicalSnapshotDecoder on real runsc replies', () => {
  const replies = [
    'export-metrics.wire.json',
    'export-metrics-filtered.wire.json',
    'export-metrics-created-sandbox.wire.json',
  ].map(fixture);
  const decoder = new CanonicalSnapshotDecoder(knownFrom(...replies));

  it.each(replies.map((r, i) => [i, r] as const))('reply %i: taken, and equal to the general decode', (_i, reply) => {
    const got = fast(decoder, reply);
    expect(got).toBeDefined();
    expect(got).toStrictEqual(general(reply));
  });

  it('shares one Metric and one Labels object per definition and value', () => {
    const a = fast(decoder, replies[0]!)!;
    const b = fast(decoder, replies[0]!)!;
    expect(a.data[0]!.metric).toBe(b.data[0]!.metric);
    const sys = (s: Snapshot) => s.data.find((d) => d.metric.name === 'unimplemented_syscalls')!;
    expect(sys(a).labels).toBe(sys(b).labels);
    expect(Object.isFrozen(sys(a).labels)).toBe(true);
  });

  // A verifier trusts decoded points only when its own decoder wrote them (`decoder`),
  // and then reads its own objects back off the points: a frozen KnownMetric is shared as is.
  it('says which decoder wrote the points, and shares frozen known metrics as given', () => {
    const bytes = Buffer.from(replies[0]!, 'utf8');
    const made = decoder.decodeReply(bytes, bytes.length, new DecodedPoints())!;
    const other = new CanonicalSnapshotDecoder(knownFrom(...replies));
    expect(made).toBeInstanceOf(DecodedPoints);
    expect(made.decoder).toBe(decoder);
    expect(made.decoder).not.toBe(other);
    // The same columns filled by hand claim no decoder; a failed decode leaves none.
    const byHand = new DecodedPoints();
    byHand.metrics.push(...made.metrics);
    byHand.length = made.length;
    expect(byHand.decoder).toBeUndefined();
    expect(decoder.decodeReply(Buffer.from('{}'), 2, made)).toBeUndefined();
    expect(made.decoder).toBeUndefined();
    decoder.decodeReply(bytes, bytes.length, made);
    const own = knownFrom(...replies).map((k) => ({
      ...k,
      metric: Object.freeze({ ...k.metric, tag: k.metric.name }),
    }));
    const sharing = new CanonicalSnapshotDecoder(own);
    const taken = sharing.decodeReply(bytes, bytes.length, new DecodedPoints())!;
    const first = own.find((k) => k.metric.name === taken.metrics[0]!.name)!;
    expect(taken.metrics[0]).toBe(first.metric);
  });

  // The decoder writes into the points it is given, which its owner may reuse reply
  // after reply: a shorter reply leaves no point of the longer one behind, and points
  // given to another decode are untouched.
  it('writes into the points it is given, and only those', () => {
    const bytes = (r: string): Buffer => Buffer.from(r, 'utf8');
    const whole = bytes(replies[0]!);
    const filtered = bytes(replies[1]!);
    const reused = new DecodedPoints();
    const first = decoder.decodeReply(whole, whole.length, reused)!;
    expect(first).toBe(reused);
    const firstData = plain(first);
    expect(firstData).toStrictEqual(general(replies[0]!));
    const other = decoder.decodeReply(filtered, filtered.length, new DecodedPoints())!;
    expect(plain(reused)).toStrictEqual(firstData); // another decode's points are its own
    const second = decoder.decodeReply(filtered, filtered.length, reused)!;
    expect(second.length).toBeLessThan(reused.metrics.length); // capacity kept, only `length` counts
    expect(plain(second)).toStrictEqual(general(replies[1]!));
    expect(plain(other)).toStrictEqual(general(replies[1]!));
    const broken = bytes(replies[0]!.replace('"val":{"int":', '"val":{"int": '));
    expect(decoder.decodeReply(broken, broken.length, reused)).toBeUndefined();
    expect(reused.length).toBe(0); // nothing usable left after a refused reply
    const builder = new ExpositionBuilder();
    builder.add({ snapshot: other, exporterPrefix: 'runsc_', extraLabels: {} });
  });

  it('takes a snapshot without data (runsc leaves the key out), with [] and with null', () => {
    const when = '"when":"2026-11-27T22:48:05.333741011Z"';
    for (const body of [`{${when}}`, `{${when},"data":[]}`, `{${when},"data":null}`]) {
      const reply = `${ENVELOPE_HEAD}{"snapshot":${body}}}`;
      expect(fast(decoder, reply), body).toStrictEqual(general(reply));
    }
  });
});

describe('CanonicalSnapshotDecoder leaves everything else to the general path', () => {
  const base = fixture('export-metrics.wire.json');
  const decoder = new CanonicalSnapshotDecoder(knownFrom(base));
  const cases: [string, string][] = [
    ['an unknown metric', base.replace('"name":"fs_opens"', '"name":"fs_openz"')],
    ['another help text', base.replace('Number of file opens.', 'Number of file opens!')],
    ['another type', base.replace('"name":"fs_opens","type":2', '"name":"fs_opens","type":1')],
    ['a label value not allowed', base.replace('"sysno":"334"', '"sysno":"335"')],
    ['another label key', base.replace('"sysno":"334"', '"sysnr":"334"')],
    [
      'labels on a metric without fields',
      base.replace(
        '"name":"fs_opens","type":2,"help":"Number of file opens."}',
        '"name":"fs_opens","type":2,"help":"Number of file opens."},"labels":{"sysno":"334"}',
      ),
    ],
    ['a float value', base.replace('"val":{"int":10}', '"val":{"float":10.5}')],
    ['an explicit zero', base.replace('"val":{"int":10}', '"val":{"int":0}')],
    ['a leading zero', base.replace('"val":{"int":10}', '"val":{"int":010}')],
    ['16 digits', base.replace('"val":{"int":10}', '"val":{"int":1234567890123456}')],
    ['both int and float', base.replace('"val":{"int":10}', '"val":{"int":10,"float":1.5}')],
    ['a duplicate key', base.replace('"val":{"int":10}', '"val":{"int":10,"int":11}')],
    ['whitespace', base.replace('"val":{"int":10}', '"val": {"int":10}')],
    [
      'keys in another order',
      base.replace(
        '{"metric":{"name":"fs_opens","type":2,"help":"Number of file opens."},"val":{"int":10}}',
        '{"val":{"int":10},"metric":{"name":"fs_opens","type":2,"help":"Number of file opens."}}',
      ),
    ],
    ['an escaped name', base.replace('"name":"fs_opens"', '"name":"fs_\\u006fpens"')],
    [
      'a histogram',
      base.replace('"val":{"int":10}', '"histogram":{"total":{"int":1},"min":{},"max":{},"ssd":{},"buckets":[]}'),
    ],
    ['external labels', base.replace('"val":{"int":10}', '"external_labels":{"a":"b"},"val":{"int":10}')],
    ['a trailing comma', base.replace(']}}}', ',]}}}')],
    ['an escaped timestamp', base.replace('"when":"2026', '"when":"\\u0032026')],
    ['a bad timestamp', base.replace('"when":"2026-11-27T22', '"when":"2026-13-27T22')],
    ['a failed call', '{"success":false,"err":"boom","result":null}'],
    ['truncated data', `${base.slice(0, base.length - 40)}}}}`],
  ];

  it.each(cases)('%s', (_what, reply) => {
    expect(reply).not.toBe(base); // the edit applied
    expect(fast(decoder, reply)).toBeUndefined();
  });
});

// ---- property: random canonical replies and random corruptions of them ----

const HELP_CHARS = [
  'a',
  'b',
  ' ',
  '.',
  ',',
  '<',
  '>',
  '&',
  '"',
  '\\',
  '\n',
  '\t',
  '\u0001',
  'é',
  '\u2028',
  '€',
  '/',
  '0',
];

function randomText(r: () => number, max: number, chars: readonly string[]): string {
  let s = '';
  const n = Math.floor(r() * max);
  for (let i = 0; i < n; i++) s += chars[Math.floor(r() * chars.length)]!;
  return s;
}

interface Series {
  readonly known: KnownMetric;
}

function randomRegistration(r: () => number): Series[] {
  const out: Series[] = [];
  const count = 1 + Math.floor(r() * 8);
  for (let i = 0; i < count; i++) {
    // Mostly ASCII help (what runsc has); sometimes characters Go escapes or non-ASCII ones.
    const help = r() < 0.7 ? randomText(r, 30, ['a', 'b', ' ', '.', '(', ')']) : randomText(r, 20, HELP_CHARS);
    const metric = { name: `m${i}_${randomText(r, 6, ['a', 'z', '_', '1'])}`, type: r() < 0.5 ? 2 : 1, help };
    if (r() < 0.4) {
      const values = [
        ...new Set(
          Array.from({ length: 1 + Math.floor(r() * 4) }, () => randomText(r, 5, ['1', '2', 'x', '"', 'é', '<'])),
        ),
      ];
      out.push({ known: { metric, field: { name: r() < 0.9 ? 'f' : 'f"<', allowedValues: values } } });
    } else {
      out.push({ known: { metric } });
    }
  }
  return out;
}

function randomValue(r: () => number): string {
  const x = r();
  if (x < 0.2) return '{}';
  if (x < 0.75) return `{"int":${1 + Math.floor(r() * 1e6)}}`;
  if (x < 0.8) return `{"int":-${1 + Math.floor(r() * 1000)}}`;
  if (x < 0.85) return `{"int":${Math.floor(r() * 1e15) * 10 + 7}}`; // 15-16 digits
  if (x < 0.9) return '{"int":0}';
  if (x < 0.95) return `{"float":${(r() * 100).toFixed(2)}}`;
  return '{"int":9007199254740993}';
}

/** The series at each point of a reply (`picks`), or random ones. */
function randomReply(r: () => number, reg: readonly Series[], picks?: readonly number[]): string {
  const points: string[] = [];
  const n = picks?.length ?? Math.floor(r() * 12);
  for (let i = 0; i < n; i++) {
    const s = reg[picks?.[i] ?? Math.floor(r() * reg.length)]!;
    const m = s.known.metric;
    // Usually the definition as registered; sometimes a lie about it.
    const help = r() < 0.95 ? m.help : `${m.help}x`;
    let p = `{"metric":{"name":${goJsonString(m.name)},"type":${m.type},"help":${goJsonString(help)}}`;
    const f = s.known.field;
    if (f !== undefined) {
      const v = r() < 0.9 ? f.allowedValues[Math.floor(r() * f.allowedValues.length)]! : 'other';
      p += `,"labels":{${goJsonString(f.name)}:${goJsonString(v)}}`;
    }
    p += `,"val":${randomValue(r)}}`;
    points.push(p);
  }
  const when = '2026-11-27T22:48:05.333741011Z';
  const data = points.length === 0 && r() < 0.5 ? '' : `,"data":[${points.join(',')}]`;
  return `${ENVELOPE_HEAD}{"snapshot":{"when":"${when}"${data}}}}`;
}

function corrupt(r: () => number, reply: string): string {
  const b = Buffer.from(reply, 'utf8');
  const at = Math.floor(r() * b.length);
  const x = r();
  const junk = Buffer.from([[0x22, 0x5c, 0x7d, 0x5d, 0x2c, 0x20, 0x30, 0x31, 0x2d, 0x80, 0xc3][Math.floor(r() * 11)]!]);
  if (x < 0.4) {
    b[at] = junk[0]!;
    return b.toString('utf8');
  }
  if (x < 0.7) return Buffer.concat([b.subarray(0, at), junk, b.subarray(at)]).toString('utf8');
  if (x < 0.9) return Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]).toString('utf8');
  return b.subarray(0, at).toString('utf8');
}

describe('CanonicalSnapshotDecoder: whatever it takes, the general path decodes alike', () => {
  it('random canonical replies and random corruptions of them (4000 of each)', () => {
    let taken = 0;
    let canonicalTotal = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const r = rng(seed);
      const reg = randomRegistration(r);
      const decoder = new CanonicalSnapshotDecoder(reg.map((s) => s.known));
      for (let k = 0; k < 10; k++) {
        const reply = randomReply(r, reg);
        for (const input of [reply, corrupt(r, reply)]) {
          let got: Snapshot | undefined;
          expect(() => (got = fast(decoder, input)), `seed ${seed}: threw on ${input}`).not.toThrow();
          if (got === undefined) continue;
          const want = general(input);
          if (!isDeepStrictEqual(got, want)) {
            expect.fail(
              `seed ${seed}: fast path disagrees with the general path on ${input}\nfast: ${JSON.stringify(got)}\ngeneral: ${JSON.stringify(want)}`,
            );
          }
          if (input === reply) taken++;
        }
        canonicalTotal++;
      }
    }
    // Not vacuous: a good share of canonical replies take the fast path (the rest hold a
    // float, a big or zero int, a lie or non-ASCII text, which the general path handles).
    expect(taken).toBeGreaterThan(canonicalTotal / 8);
  });

  // One decoder serves every sandbox of a registration, reply after reply, into points its
  // owner reuses: nothing of one reply may change what the next decodes to. Replies here
  // vary their series and order (runsc reorders every export), with lies, corruptions and
  // a second decoder mixed in.
  it('carries nothing from one reply to the next (400 sandboxes x 20 replies)', () => {
    let taken = 0;
    const reused = new DecodedPoints();
    for (let seed = 1; seed <= 400; seed++) {
      const r = rng(1000 + seed);
      const reg = randomRegistration(r);
      const decoders = [
        new CanonicalSnapshotDecoder(reg.map((s) => s.known)),
        new CanonicalSnapshotDecoder([...reg].reverse().map((s) => s.known)),
      ];
      let picks = Array.from({ length: 1 + Math.floor(r() * 6) }, () => Math.floor(r() * reg.length));
      for (let k = 0; k < 20; k++) {
        const x = r();
        if (x < 0.1) picks = Array.from({ length: 1 + Math.floor(r() * 6) }, () => Math.floor(r() * reg.length));
        else if (x < 0.6) picks = [...picks].sort(() => r() - 0.5);
        else if (x < 0.65) picks = picks.slice(1);
        const reply = randomReply(r, reg, picks);
        const input = r() < 0.2 ? corrupt(r, reply) : reply;
        const pick = r() < 0.9 ? 0 : 1;
        const bytes = Buffer.from(input, 'utf8');
        let got: Snapshot | undefined;
        expect(
          () => (got = plain(decoders[pick]!.decodeReply(bytes, bytes.length, reused))),
          `seed ${seed}: threw on ${input}`,
        ).not.toThrow();
        const fresh = plain(
          new CanonicalSnapshotDecoder((pick === 0 ? reg : [...reg].reverse()).map((s) => s.known)).decodeReply(
            bytes,
            bytes.length,
            new DecodedPoints(),
          ),
        );
        if (!isDeepStrictEqual(got, fresh)) {
          expect.fail(
            `seed ${seed}: reused decoder ${JSON.stringify(got)}\nfresh: ${JSON.stringify(fresh)}\non ${input}`,
          );
        }
        if (got !== undefined && !isDeepStrictEqual(got, general(input))) {
          expect.fail(`seed ${seed}: ${JSON.stringify(got)}\ngeneral: ${JSON.stringify(general(input))}\non ${input}`);
        }
        if (got !== undefined) taken++;
      }
    }
    expect(taken).toBeGreaterThan(1000);
  });

  it('never throws on random bytes', () => {
    const decoder = new CanonicalSnapshotDecoder([{ metric: { name: 'a', type: 2, help: 'h' } }]);
    const r = rng(99);
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.alloc(Math.floor(r() * 80), 0);
      for (let j = 0; j < b.length; j++) b[j] = Math.floor(r() * 256);
      const start = Math.floor(r() * (b.length + 2));
      expect(decoder.decodeResult(b, start, Math.floor(r() * (b.length + 3)), new DecodedPoints())).toBeUndefined();
      expect(decoder.decodeReply(b, Math.floor(r() * (b.length + 3)), new DecodedPoints())).toBeUndefined();
    }
  });
});
