// The builder's Prometheus text (0.0.4) output, byte for byte on the worked examples and
// rule by rule (prometheus.md §4 and the README's decisions); promtool judges every output.
import { describe, expect, test } from 'vitest';
import type { SkippedData, SnapshotExport } from '../../src/index.js';
import { decodeExportResult, parseJson, parseRfc3339, pointsOf } from '../../src/index.js';
import { counter, exp, flt, gauge, histogram, int, point, T0, T0_MS } from '../support/build.js';
import { readCapture } from '../support/captures.js';
import { expectPromtoolAccepts } from '../support/promtool.js';
import { type RenderOptions, renderText } from '../support/render.js';

const HEADER1 =
  '# Writing data from snapshot containing 1 data points taken at 2024-05-20 18:28:42.123456789 +0000 UTC.\n';
const END = '\n# End of metric data.\n';

/** Renders, asserts promtool accepts, returns text and skips. */
function render(snapshots: SnapshotExport[], options: RenderOptions = {}): { text: string; skips: SkippedData[] } {
  const out = renderText(snapshots, options);
  expectPromtoolAccepts(out.text); // the empty output of no snapshots included
  return out;
}

/** The sample lines only (no comments, no blank lines). */
const samples = (text: string): string[] => text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));

const fooDist = histogram(
  'foo_dist',
  {
    total: int(126),
    min: int(-1),
    max: int(99),
    sumOfSquaredDeviations: flt(8187.5),
    buckets: [
      { upperBound: int(0), samples: 1 },
      { upperBound: int(1), samples: 0 },
      { upperBound: int(2), samples: 0 },
      { upperBound: int(4), samples: 3 },
      { upperBound: int(8), samples: 3 },
      { upperBound: flt(Infinity), samples: 1 },
    ],
  },
  {},
  'A distribution about foo',
);

describe('layout (prometheus.md §4)', () => {
  test('worked example §4.6, byte for byte', () => {
    const { text } = render([exp([gauge('foo_int', int(3), {}, 'An integer about foo')])]);
    expect(text).toBe(
      `${HEADER1}\n\n# HELP foo_int An integer about foo\n# TYPE foo_int gauge\nfoo_int 3 1716229722123\n${END}`,
    );
  });

  test('worked example histogram, byte for byte (two blank lines before a first histogram)', () => {
    const ts = ` ${T0_MS}\n`;
    const { text } = render([exp([fooDist])]);
    expect(text).toBe(
      `${HEADER1}\n\n\n# HELP foo_dist A distribution about foo\n# TYPE foo_dist histogram\n` +
        `foo_dist_bucket{le="0"} 1${ts}foo_dist_bucket{le="1"} 1${ts}foo_dist_bucket{le="2"} 1${ts}` +
        `foo_dist_bucket{le="4"} 4${ts}foo_dist_bucket{le="8"} 7${ts}foo_dist_bucket{le="+Inf"} 8${ts}` +
        `foo_dist_sum 126${ts}foo_dist_count 8${ts}foo_dist_min -1${ts}foo_dist_max 99${ts}foo_dist_ssd 8187.500000${ts}\n${END}`,
    );
  });

  test('histogram with labels and extra labels: le last on every bucket', () => {
    const h = { ...fooDist, labels: { z: '1', a: '2' } };
    const { text } = render([exp([h], { sandbox: 's1' }, 'runsc_')]);
    expect(samples(text)).toEqual([
      `runsc_foo_dist_bucket{a="2",sandbox="s1",z="1",le="0"} 1 ${T0_MS}`,
      `runsc_foo_dist_bucket{a="2",sandbox="s1",z="1",le="1"} 1 ${T0_MS}`,
      `runsc_foo_dist_bucket{a="2",sandbox="s1",z="1",le="2"} 1 ${T0_MS}`,
      `runsc_foo_dist_bucket{a="2",sandbox="s1",z="1",le="4"} 4 ${T0_MS}`,
      `runsc_foo_dist_bucket{a="2",sandbox="s1",z="1",le="8"} 7 ${T0_MS}`,
      `runsc_foo_dist_bucket{a="2",sandbox="s1",z="1",le="+Inf"} 8 ${T0_MS}`,
      `runsc_foo_dist_sum{a="2",sandbox="s1",z="1"} 126 ${T0_MS}`,
      `runsc_foo_dist_count{a="2",sandbox="s1",z="1"} 8 ${T0_MS}`,
      `runsc_foo_dist_min{a="2",sandbox="s1",z="1"} -1 ${T0_MS}`,
      `runsc_foo_dist_max{a="2",sandbox="s1",z="1"} 99 ${T0_MS}`,
      `runsc_foo_dist_ssd{a="2",sandbox="s1",z="1"} 8187.500000 ${T0_MS}`,
    ]);
  });

  test('histogram without buckets still has sum/count/min/max/ssd', () => {
    const h = histogram(
      'h',
      { total: flt(1.5), min: ZERO_(), max: ZERO_(), sumOfSquaredDeviations: ZERO_(), buckets: [] },
      { a: 'x' },
    );
    expect(samples(render([exp([h])]).text)).toEqual([
      `h_sum{a="x"} 1.500000 ${T0_MS}`,
      `h_count{a="x"} 0 ${T0_MS}`,
      `h_min{a="x"} 0 ${T0_MS}`,
      `h_max{a="x"} 0 ${T0_MS}`,
      `h_ssd{a="x"} 0 ${T0_MS}`,
    ]);
    const bare = histogram('h', {
      total: ZERO_(),
      min: ZERO_(),
      max: ZERO_(),
      sumOfSquaredDeviations: ZERO_(),
      buckets: [],
    });
    expect(samples(render([exp([bare])]).text)[0]).toBe(`h_sum 0 ${T0_MS}`);
  });

  test('no snapshots: nothing at all; an empty snapshot: header and end', () => {
    expect(render([]).text).toBe('');
    const empty = render([exp([])]).text;
    expect(empty).toBe(
      '# Writing data from snapshot containing 0 data points taken at 2024-05-20 18:28:42.123456789 +0000 UTC.\n\n' +
        END,
    );
  });

  test('comment header: every piece, also empty ones', () => {
    const { text } = render([exp([])], { commentHeader: 'Data for runsc metric server exporter.\n\nsecond' });
    expect(text.startsWith('# Data for runsc metric server exporter.\n# \n# second\n# Writing data from')).toBe(true);
    expect(render([exp([])], { commentHeader: 'x\n' }).text.startsWith('# x\n# \n# Writing')).toBe(true);
  });

  test('several snapshots: summary lines with extra labels as a Go map, newlines neutralised', () => {
    const { text } = render([exp([gauge('a', int(1))], { sandbox: 'x', pod_name: 'p\nq' }), exp([], {})]);
    expect(
      text.startsWith(
        '# Writing data from 2 snapshots:\n' +
          '#   - Snapshot with 1 data points taken at 2024-05-20 18:28:42.123456789 +0000 UTC: map[pod_name:p\\nq sandbox:x]\n' +
          '#   - Snapshot with 0 data points taken at 2024-05-20 18:28:42.123456789 +0000 UTC: map[]\n\n',
      ),
    ).toBe(true);
  });

  test('families sorted byte-wise by full name across snapshots and prefixes', () => {
    const { text } = render([
      exp([gauge('b', int(1)), gauge('B', int(2)), gauge('_c', int(3))], { sandbox: 's1' }, 'x_'),
      exp([gauge('a', int(4)), gauge('process_start_time_seconds', flt(1716228000.5))], {}, ''),
      exp([gauge('b', int(5))], { sandbox: 's2' }, 'x_'),
    ]);
    expect(samples(text)).toEqual([
      `a 4 ${T0_MS}`,
      `process_start_time_seconds 1716228000.500000 ${T0_MS}`,
      `x_B{sandbox="s1"} 2 ${T0_MS}`,
      `x__c{sandbox="s1"} 3 ${T0_MS}`,
      `x_b{sandbox="s1"} 1 ${T0_MS}`,
      `x_b{sandbox="s2"} 5 ${T0_MS}`,
    ]);
    expect(text.match(/# TYPE x_b gauge/g)).toHaveLength(1);
  });

  test('every sample carries its own snapshot time in floored ms', () => {
    const early = parseRfc3339('1969-12-31T23:59:59.9995Z');
    const { text } = render([
      exp([gauge('a', int(1))], { sandbox: '1' }, '', early),
      exp([gauge('a', int(2))], { sandbox: '2' }),
    ]);
    expect(samples(text)).toEqual([`a{sandbox="1"} 1 -1`, `a{sandbox="2"} 2 ${T0_MS}`]);
  });
});

describe('values', () => {
  test('huge ints, NaN and infinities', () => {
    const { text } = render([
      exp([
        gauge('a', int(9223372036854775807n)),
        gauge('b', int(-9223372036854775808n)),
        gauge('c', int(1000000000000000000n)),
        gauge('d', flt(NaN)),
        gauge('e', flt(Infinity)),
        gauge('f', flt(-Infinity)),
        gauge('g', flt(0.0078125)),
        gauge('h', flt(2.5)),
        gauge('i', flt(1e20)),
        counter('j', int(0)),
      ]),
    ]);
    expect(samples(text).map((l) => l.split(' ')[1])).toEqual([
      '9223372036854775807',
      '-9223372036854775808',
      '1000000000000000000',
      'NaN',
      '+Inf',
      '-Inf',
      '0.007812',
      '2.500000',
      '100000000000000000000.000000',
      '0',
    ]);
  });

  test('safe integers at every digit-count and uint32 boundary, both signs', () => {
    const values: number[] = [
      0,
      1,
      9,
      10,
      11,
      99,
      100,
      101,
      999,
      1000,
      65535,
      99999,
      100000,
      4294967295,
      4294967296,
      4294967396,
      2 ** 53 - 1,
    ];
    for (let p = 10; p <= 1e15; p *= 10) values.push(p - 1, p, p + 1);
    const all = values.flatMap((v) => (v === 0 ? [0] : [v, -v]));
    const { text } = render([exp(all.map((v, i) => gauge(`g${String(i).padStart(3, '0')}`, int(v))))]);
    expect(samples(text).map((l) => l.split(' ')[1])).toEqual(all.map(String));
  });

  test('huge integers stay exact from wire JSON to exposition text', () => {
    const wire =
      '{"snapshot":{"when":"2024-05-20T18:28:42.123456789Z","data":[' +
      '{"metric":{"name":"big","type":1,"help":""},"labels":{"k":"max"},"val":{"int":9223372036854775807}},' +
      '{"metric":{"name":"big","type":1,"help":""},"labels":{"k":"min"},"val":{"int":-9223372036854775808}},' +
      '{"metric":{"name":"h","type":3,"help":""},"histogram":{"total":{"int":1000000000000000000},"min":{},"max":{},"ssd":{"float":"NaN"},' +
      '"buckets":[{"le":{"int":9007199254740993},"n":18446744073709551615},{"le":{"float":"+Inf"}}]}}]}}';
    const { snapshot } = decodeExportResult(parseJson(wire));
    const lines = samples(render([{ snapshot: pointsOf(snapshot), exporterPrefix: '', extraLabels: {} }]).text);
    expect(lines).toEqual([
      `big{k="max"} 9223372036854775807 ${T0_MS}`,
      `big{k="min"} -9223372036854775808 ${T0_MS}`,
      `h_bucket{le="9007199254740993"} 18446744073709551615 ${T0_MS}`,
      `h_bucket{le="+Inf"} 18446744073709551615 ${T0_MS}`,
      `h_sum 1000000000000000000 ${T0_MS}`,
      `h_count 18446744073709551615 ${T0_MS}`,
      `h_min 0 ${T0_MS}`,
      `h_max 0 ${T0_MS}`,
      `h_ssd NaN ${T0_MS}`,
    ]);
  });

  test('histogram counts beyond 2^64 stay exact', () => {
    const h = histogram('h', {
      total: int(1),
      min: int(1),
      max: int(1),
      sumOfSquaredDeviations: flt(0.5),
      buckets: [
        { upperBound: int(-9223372036854775808n), samples: 18446744073709551615n },
        { upperBound: flt(Infinity), samples: 1 },
      ],
    });
    const lines = samples(render([exp([h])]).text);
    expect(lines[0]).toBe(`h_bucket{le="-9223372036854775808"} 18446744073709551615 ${T0_MS}`);
    expect(lines[1]).toBe(`h_bucket{le="+Inf"} 18446744073709551616 ${T0_MS}`);
    expect(lines[3]).toBe(`h_count 18446744073709551616 ${T0_MS}`);
  });
});

describe('labels', () => {
  test('a label key ending exactly at the end of the buffer keeps its `="` (regression)', () => {
    // A family's buffer grows from 256 bytes by doubling: `g{a="` + value + `"` + `,bb` ends exactly at 64 KiB.
    const value = 'x'.repeat(65527);
    const { text } = renderText([exp([gauge('g', int(1), { a: value, bb: '2' })])], { format: 'openmetrics' });
    expect(text).toBe(`# TYPE g gauge\ng{a="${value}",bb="2"} 1 1716229722.123\n# EOF\n`);
  });

  test('sorted byte-wise (uppercase, _, lowercase), le last', () => {
    const { text } = render([exp([gauge('m', int(1), { b: '1', le: '9', a: '2', B: '3', _x: '4' })], { c: '5' })]);
    expect(samples(text)).toEqual([`m{B="3",_x="4",a="2",b="1",c="5",le="9"} 1 ${T0_MS}`]);
  });

  test('extra labels interleave with point labels; an extra le still goes last', () => {
    const { text } = render([
      exp([gauge('m', int(1), { m: '1' }), gauge('n', int(2), { b: '2' })], { z: 'z', a: 'a' }),
      exp([gauge('o', int(3), { b: '2' })], { le: 'x', a: '1' }),
    ]);
    expect(samples(text)).toEqual([
      `m{a="a",m="1",z="z"} 1 ${T0_MS}`,
      `n{a="a",b="2",z="z"} 2 ${T0_MS}`,
      `o{a="1",b="2",le="x"} 3 ${T0_MS}`,
    ]);
  });

  test('extra labels always win; the sandbox-sent one is dropped', () => {
    const { text } = render([
      exp(
        [counter('fs_opens', int(1), { sandbox: 'victim', pod_name: 'evil', sysno: '1' })],
        { sandbox: 'mine', pod_name: 'p', namespace_name: 'n' },
        'runsc_',
      ),
    ]);
    expect(samples(text)).toEqual([
      `runsc_fs_opens{namespace_name="n",pod_name="p",sandbox="mine",sysno="1"} 1 ${T0_MS}`,
    ]);
  });

  test('hostile strings in label values and help are escaped per the format', () => {
    const hostile = 'a"b\\c\nd}e#f{g="h"},';
    const { text } = render([
      exp([gauge('m', int(1), { v: hostile }, 'help with \\ and\nnewline and "quotes" } #')], { x: hostile }),
    ]);
    expect(text).toContain('# HELP m help with \\\\ and\\nnewline and "quotes" } #\n');
    expect(samples(text)).toEqual([
      `m{v="a\\"b\\\\c\\nd}e#f{g=\\"h\\"},",x="a\\"b\\\\c\\nd}e#f{g=\\"h\\"},"} 1 ${T0_MS}`,
    ]);
  });

  test('non-ASCII label values and help are written as UTF-8', () => {
    const { text } = render([exp([gauge('m', int(1), { v: 'é😀\u0000' }, 'ünïcode')])]);
    expect(text).toContain('# HELP m ünïcode\n');
    expect(samples(text)).toEqual([`m{v="é😀\u0000"} 1 ${T0_MS}`]);
  });

  test('empty label values are written', () => {
    expect(samples(render([exp([gauge('m', int(1), { a: '' })], { b: '' })]).text)).toEqual([
      `m{a="",b=""} 1 ${T0_MS}`,
    ]);
  });
});

describe('refusals: a bad data point is skipped whole and reported', () => {
  const good = gauge('good', int(1));
  const goodText = render([exp([good])]).text;

  test.each([
    ['invalid metric name', gauge('1bad', int(1)), /invalid metric name/],
    ['metric name with a dash', gauge('a-b', int(1)), /invalid metric name/],
    ['empty metric name', gauge('', int(1)), /invalid metric name/],
    ['label name with a dash', gauge('m', int(1), { 'a-b': 'x' }), /invalid label name/],
    ['reserved label name', gauge('m', int(1), { __name__: 'x' }), /invalid label name/],
    ['empty label name', gauge('m', int(1), { '': 'x' }), /invalid label name/],
    ['unknown type', point('m', 7, int(1)), /unknown metric type 7/],
    ['no value', point('m', 1, undefined), /no value/],
    ['histogram without histogram', point('m', 3, int(1)), /no histogram value/],
    ['histogram with its own le', { ...fooDist, labels: { le: '1' } }, /"le"/],
  ])('%s', (_what, bad, reason) => {
    // The bad point sorts around the good one; the output must equal the good one's alone.
    const { text, skips } = render([exp([bad, good])]);
    expect(text.replace('2 data points', '1 data points')).toBe(goodText);
    expect(skips).toHaveLength(1);
    expect(skips[0]!.snapshotIndex).toBe(0);
    expect(skips[0]!.reason).toMatch(reason);
  });

  test('an extra label "le" refuses histogram points (their buckets own "le"), not other points', () => {
    const { text, skips } = render([exp([fooDist, gauge('g', int(1))], { le: 'x', sandbox: 's' })]);
    expect(text).not.toContain('foo_dist');
    expect(text).toContain('g{sandbox="s",le="x"} 1 ');
    expect(skips.map((s) => [s.metric, s.reason])).toEqual([
      ['foo_dist', 'an extra label "le" on a histogram, whose buckets own "le"'],
    ]);
  });

  test('a bad label late in a histogram leaves nothing partial (rollback)', () => {
    const bad = { ...fooDist, labels: { a: 'ok', 'z-z': 'bad' } };
    const { text, skips } = render([exp([bad])]);
    expect(text).not.toContain('foo_dist');
    expect(skips.map((s) => s.metric)).toEqual(['foo_dist']);
  });

  test('a skipped first point does not consume the family preamble', () => {
    const { text } = render([
      exp([gauge('m', int(1), { 'b-ad': '1' }, 'help'), gauge('m', int(2), { ok: '1' }, 'help')]),
    ]);
    expect(text).toContain(`\n# HELP m help\n# TYPE m gauge\nm{ok="1"} 2 ${T0_MS}\n`);
  });

  test('an invalid extra label name refuses that snapshot only', () => {
    const { text, skips } = render([
      exp([gauge('m', int(1))], { 'bad-key': 'x' }),
      exp([gauge('m', int(2))], { sandbox: 'b' }),
    ]);
    expect(samples(text)).toEqual([`m{sandbox="b"} 2 ${T0_MS}`]);
    expect(skips).toEqual([
      { snapshotIndex: 0, metric: 'm', reason: expect.stringMatching(/invalid extra label name/) },
    ]);
  });
});

describe('HELP/TYPE once per full name', () => {
  test('across snapshots; metricsWritten records full names', () => {
    const written = new Set<string>();
    const snaps = Array.from({ length: 5 }, (_, i) =>
      exp([counter('fs_opens', int(i + 1), {}, 'Number of file opens.')], { sandbox: `s${i}` }, 'runsc_'),
    );
    const { text } = render(snaps, { metricsWritten: written });
    expect(text.match(/# HELP runsc_fs_opens /g)).toHaveLength(1);
    expect(text.match(/# TYPE runsc_fs_opens counter/g)).toHaveLength(1);
    expect(samples(text)).toHaveLength(5);
    expect([...written]).toEqual(['runsc_fs_opens']);
  });

  test('names already in metricsWritten get no preamble', () => {
    const { text } = render([exp([gauge('m', int(1), {}, 'h')])], { metricsWritten: new Set(['m']) });
    expect(text).not.toContain('# TYPE');
    expect(samples(text)).toEqual([`m 1 ${T0_MS}`]);
  });

  test("a sandbox metric with a meta metric's unprefixed name keeps its own preamble (Go drops it)", () => {
    const { text } = render([
      exp(
        [gauge('sandbox_presence', int(1), { sandbox: 'a' }, 'Boolean metric set to 1 for each known sandbox.')],
        {},
        'runsc_meta_',
      ),
      exp([gauge('sandbox_presence', int(7), {}, 'sandbox own')], { sandbox: 'a' }, 'runsc_'),
    ]);
    expect(text).toContain('# TYPE runsc_meta_sandbox_presence gauge\n');
    expect(text).toContain('# HELP runsc_sandbox_presence sandbox own\n# TYPE runsc_sandbox_presence gauge\n');
  });

  test('conflicting types under one full name: one TYPE, the conflicting points skipped and reported', () => {
    const { text, skips } = render([
      exp([gauge('x_y', int(1), {}, 'first')], { sandbox: 'a' }, 'p_'),
      exp([counter('y', int(2), {}, 'second')], { sandbox: 'b' }, 'p_x_'),
      exp([gauge('y', int(3), {}, 'third')], { sandbox: 'c' }, 'p_x_'),
    ]);
    expect(text.match(/# TYPE/g)).toHaveLength(1);
    expect(text).toContain('# HELP p_x_y first\n# TYPE p_x_y gauge\n');
    expect(samples(text)).toEqual([`p_x_y{sandbox="a"} 1 ${T0_MS}`, `p_x_y{sandbox="c"} 3 ${T0_MS}`]);
    expect(skips).toEqual([
      { snapshotIndex: 1, metric: 'p_x_y', reason: expect.stringMatching(/counter conflicts with gauge/) },
    ]);
  });

  test('two prefixes meeting in one full name keep snapshot order', () => {
    const { text } = render([
      exp([gauge('y', int(1))], { sandbox: 'a' }, 'p_x_'),
      exp([gauge('x_y', int(2))], { sandbox: 'b' }, 'p_'),
      exp([gauge('y', int(3)), gauge('y', int(4), { f: '1' })], { sandbox: 'c' }, 'p_x_'),
    ]);
    expect(samples(text)).toEqual([
      `p_x_y{sandbox="a"} 1 ${T0_MS}`,
      `p_x_y{sandbox="b"} 2 ${T0_MS}`,
      `p_x_y{sandbox="c"} 3 ${T0_MS}`,
      `p_x_y{f="1",sandbox="c"} 4 ${T0_MS}`,
    ]);
    expect(text.match(/# TYPE p_x_y gauge/g)).toHaveLength(1);
  });

  test('a family named like a histogram series is skipped (it would split the histogram)', () => {
    const { text, skips } = render([exp([fooDist, gauge('foo_dist_count', int(1)), gauge('foo_dist_counts', int(2))])]);
    expect(text).not.toContain('foo_dist_count 1');
    expect(text).toContain(`foo_dist_counts 2 ${T0_MS}`);
    expect(skips.map((s) => s.metric)).toEqual(['foo_dist_count']);
  });
});

describe('duplicate series are never written twice', () => {
  test('within one snapshot', () => {
    const { text, skips } = render([
      exp([gauge('m', int(1), { a: '1' }), gauge('m', int(2), { a: '2' }), gauge('m', int(3), { a: '1' })], {
        sandbox: 's',
      }),
    ]);
    expect(samples(text)).toEqual([`m{a="1",sandbox="s"} 1 ${T0_MS}`, `m{a="2",sandbox="s"} 2 ${T0_MS}`]);
    expect(skips.map((s) => s.reason)).toEqual([expect.stringMatching(/duplicate series/)]);
  });

  test('across snapshots that are not separated by an extra label', () => {
    const { text, skips } = render([
      exp([gauge('m', int(1), { sandbox: 'a' })]),
      exp([gauge('m', int(2))], { sandbox: 'a' }),
    ]);
    expect(samples(text)).toEqual([`m{sandbox="a"} 1 ${T0_MS}`]);
    expect(skips).toHaveLength(1);
    expect(skips[0]!.snapshotIndex).toBe(1);
  });

  test('across snapshots with the same separating value, also for histograms', () => {
    const { text, skips } = render([
      exp([fooDist], { sandbox: 'a' }),
      exp([fooDist], { sandbox: 'a' }),
      exp([fooDist], { sandbox: 'b' }),
    ]);
    expect(samples(text).filter((l) => l.startsWith('foo_dist_sum'))).toEqual([
      `foo_dist_sum{sandbox="a"} 126 ${T0_MS}`,
      `foo_dist_sum{sandbox="b"} 126 ${T0_MS}`,
    ]);
    expect(skips).toHaveLength(1);
  });

  test('the dropped sandbox label cannot be used to collide with another sandbox', () => {
    const { text } = render([
      exp([gauge('m', int(1))], { sandbox: 'a' }),
      exp([gauge('m', int(2), { sandbox: 'a' })], { sandbox: 'b' }),
    ]);
    expect(samples(text)).toEqual([`m{sandbox="a"} 1 ${T0_MS}`, `m{sandbox="b"} 2 ${T0_MS}`]);
  });
});

describe('many snapshots', () => {
  test('100 sandboxes sharing names, a meta snapshot and a process snapshot', () => {
    const snaps: SnapshotExport[] = [];
    const meta = [];
    for (let i = 0; i < 100; i++) {
      snaps.push(
        exp(
          [
            counter('fs_opens', int(i), {}, 'Number of file opens.'),
            counter('unimplemented_syscalls', int(1), { sysno: String(i % 7) }, 'syscalls'),
            counter('unimplemented_syscalls', int(2), { sysno: '999' }, 'syscalls'),
            gauge('netstack_tcp_current_open', int(0), {}, 'open'),
            { ...fooDist, labels: { k: String(i % 3) } },
          ],
          { sandbox: `sb${i}`, iteration: 'it', pod_name: `pod${i}`, namespace_name: 'ns' },
          'runsc_',
        ),
      );
      meta.push(
        gauge('sandbox_presence', int(1), { sandbox: `sb${i}` }, 'Boolean metric set to 1 for each known sandbox.'),
      );
    }
    snaps.push(exp(meta, {}, 'runsc_meta_'));
    snaps.push(
      exp([
        gauge(
          'process_start_time_seconds',
          flt(1716228000.5),
          {},
          'Start time of the process since unix epoch in seconds.',
        ),
      ]),
    );
    const { text, skips } = render(snaps);
    expect(skips).toEqual([]);
    const lines = samples(text);
    expect(lines.filter((l) => l.startsWith('runsc_fs_opens{'))).toHaveLength(100);
    expect(lines.filter((l) => l.startsWith('runsc_unimplemented_syscalls{'))).toHaveLength(200);
    expect(lines.filter((l) => l.startsWith('runsc_foo_dist_bucket{'))).toHaveLength(600);
    expect(lines.filter((l) => l.startsWith('runsc_meta_sandbox_presence{'))).toHaveLength(100);
    const typeOrder = [...text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]!);
    expect(typeOrder).toEqual([...typeOrder].sort());
    expect(new Set(typeOrder).size).toBe(typeOrder.length);
  });

  test('decoded real capture renders and passes promtool', () => {
    const raw = parseJson(readCapture('export-metrics.wire.json')) as {
      result: unknown;
    };
    const { snapshot } = decodeExportResult(raw.result);
    const { text, skips } = render(
      [{ snapshot: pointsOf(snapshot), exporterPrefix: 'runsc_', extraLabels: { sandbox: 'abc', iteration: 'x' } }],
      {
        commentHeader: 'Data for runsc metric server exporter.',
      },
    );
    expect(skips).toEqual([]);
    expect(text).toContain(`runsc_unimplemented_syscalls{iteration="x",sandbox="abc",sysno="334"} 5 1795819685333\n`);
    expect(samples(text)).toHaveLength(7);
  });
});

function ZERO_(): { int: number; float: number } {
  return { int: 0, float: 0 };
}

test('T0 is the worked example instant', () => {
  expect(T0).toEqual({ seconds: 1716229722, nanos: 123456789 });
});
