// The oracle itself against hand-written expected texts (the spec's worked example,
// OpenMetrics cases, each rule once), so it is not only checked by agreeing with the
// builder it judges. Data is written out literally: nothing here comes from src/.
import { describe, expect, test } from 'vitest';
import type { Data, Histogram, Labels, Timestamp, WireNumber } from '../../src/model.js';
import { type ReferenceSnapshot, referenceExposition } from './exposition-reference.js';

/** 2024-05-20T18:28:42.123456789Z, the spec's worked example instant. */
const WHEN: Timestamp = { seconds: 1716229722, nanos: 123456789 };
const MS = '1716229722123';
const SEC = '1716229722.123';
const HEADER1 =
  '# Writing data from snapshot containing 1 data points taken at 2024-05-20 18:28:42.123456789 +0000 UTC.\n\n';
const END = '\n# End of metric data.\n';

const i = (v: number | bigint): WireNumber => ({ int: v, float: 0 });
const f = (v: number): WireNumber => ({ int: 0, float: v });
const point = (name: string, type: number, number: WireNumber | undefined, labels: Labels = {}, help = ''): Data =>
  number === undefined ? { metric: { name, type, help }, labels } : { metric: { name, type, help }, labels, number };
const gauge = (name: string, v: WireNumber, labels: Labels = {}, help = ''): Data => point(name, 1, v, labels, help);
const counter = (name: string, v: WireNumber, labels: Labels = {}, help = ''): Data => point(name, 2, v, labels, help);
const histogram = (name: string, h: Histogram, labels: Labels = {}, help = ''): Data => ({
  metric: { name, type: 3, help },
  labels,
  histogramValue: h,
});
const snap = (data: Data[], extraLabels: Labels = {}, exporterPrefix = '', when = WHEN): ReferenceSnapshot => ({
  when,
  data,
  exporterPrefix,
  extraLabels,
});
const prom = (snapshots: ReferenceSnapshot[], commentHeader?: string) =>
  referenceExposition(snapshots, { format: 'prometheus', ...(commentHeader === undefined ? {} : { commentHeader }) });
const om = (snapshots: ReferenceSnapshot[]) => referenceExposition(snapshots, { format: 'openmetrics' });
/** Sample lines only. */
const samples = (text: string): string[] => text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));

/** The spec's §4.6 histogram: bounds 0,1,2,4,8,+Inf, samples -1,3,3,3,5,7,7,99. */
const fooDist = histogram(
  'foo_dist',
  {
    total: i(126),
    min: i(-1),
    max: i(99),
    sumOfSquaredDeviations: f(8187.5),
    buckets: [
      { upperBound: i(0), samples: 1 },
      { upperBound: i(1), samples: 0 },
      { upperBound: i(2), samples: 0 },
      { upperBound: i(4), samples: 3 },
      { upperBound: i(8), samples: 3 },
      { upperBound: f(Infinity), samples: 1 },
    ],
  },
  {},
  'A distribution about foo',
);

describe('0.0.4', () => {
  test('the worked example of prometheus.md §4.6, byte for byte', () => {
    const r = prom([snap([gauge('foo_int', i(3), {}, 'An integer about foo')])]);
    expect(r.text).toBe(
      '# Writing data from snapshot containing 1 data points taken at 2024-05-20 18:28:42.123456789 +0000 UTC.\n' +
        '\n' +
        '\n' +
        '# HELP foo_int An integer about foo\n' +
        '# TYPE foo_int gauge\n' +
        'foo_int 3 1716229722123\n' +
        '\n' +
        '# End of metric data.\n',
    );
    expect(r.skipped).toEqual([]);
    expect([...r.metricsWritten]).toEqual(['foo_int']);
  });

  test("the worked example's histogram: cumulative buckets, sum, count, min, max, ssd, between blank lines", () => {
    const t = (s: string): string => `${s} ${MS}\n`;
    expect(prom([snap([fooDist])]).text).toBe(
      `${HEADER1}\n\n# HELP foo_dist A distribution about foo\n# TYPE foo_dist histogram\n` +
        t('foo_dist_bucket{le="0"} 1') +
        t('foo_dist_bucket{le="1"} 1') +
        t('foo_dist_bucket{le="2"} 1') +
        t('foo_dist_bucket{le="4"} 4') +
        t('foo_dist_bucket{le="8"} 7') +
        t('foo_dist_bucket{le="+Inf"} 8') +
        t('foo_dist_sum 126') +
        t('foo_dist_count 8') +
        t('foo_dist_min -1') +
        t('foo_dist_max 99') +
        t('foo_dist_ssd 8187.500000') +
        `\n${END}`,
    );
  });

  test('header: comment pieces, several snapshots with their extra labels as a Go map, newlines neutralised', () => {
    const r = prom(
      [snap([gauge('a', i(1))], { sandbox: 'x', pod_name: 'p\nq' }), snap([], {}, '', { seconds: 0, nanos: 5000 })],
      'first\n\nlast',
    );
    expect(r.text).toBe(
      '# first\n# \n# last\n' +
        '# Writing data from 2 snapshots:\n' +
        '#   - Snapshot with 1 data points taken at 2024-05-20 18:28:42.123456789 +0000 UTC: map[pod_name:p\\nq sandbox:x]\n' +
        '#   - Snapshot with 0 data points taken at 1970-01-01 00:00:00.000005 +0000 UTC: map[]\n' +
        '\n' +
        '\n# TYPE a gauge\n' +
        `a{pod_name="p\\nq",sandbox="x"} 1 ${MS}\n` +
        END,
    );
  });

  test('no snapshot: nothing; an empty snapshot: header and end', () => {
    expect(prom([]).text).toBe('');
    expect(prom([snap([])]).text).toBe(
      '# Writing data from snapshot containing 0 data points taken at 2024-05-20 18:28:42.123456789 +0000 UTC.\n\n' +
        END,
    );
  });

  test('families in byte order of full names, across prefixes; HELP/TYPE once per full name', () => {
    const r = prom([
      snap([gauge('b', i(1), {}, 'bee'), gauge('B', i(2)), gauge('_c', i(3))], { sandbox: 's1' }, 'x_'),
      snap([gauge('x_b', i(4), {}, 'other help')], { sandbox: 's2' }),
    ]);
    expect(r.text.slice(r.text.indexOf('\n\n') + 2)).toBe(
      `\n# TYPE x_B gauge\nx_B{sandbox="s1"} 2 ${MS}\n` +
        `\n# TYPE x__c gauge\nx__c{sandbox="s1"} 3 ${MS}\n` +
        `\n# HELP x_b bee\n# TYPE x_b gauge\nx_b{sandbox="s1"} 1 ${MS}\nx_b{sandbox="s2"} 4 ${MS}\n` +
        END,
    );
  });

  test('metricsWritten: names in it get no preamble; the result adds the families written', () => {
    const r = referenceExposition([snap([gauge('m', i(1), {}, 'h'), gauge('n', i(2), {}, 'h'), gauge('9x', i(3))])], {
      format: 'prometheus',
      metricsWritten: new Set(['m']),
    });
    expect(r.text).toContain(`\nm 1 ${MS}\n\n# HELP n h\n# TYPE n gauge\nn 2 ${MS}\n`);
    expect([...r.metricsWritten].sort()).toEqual(['m', 'n']);
  });

  test('timestamps: floor of Unix milliseconds, also before 1970', () => {
    const early = { seconds: -1, nanos: 999_500_000 }; // 1969-12-31T23:59:59.9995Z
    expect(samples(prom([snap([gauge('a', i(1))], { s: '1' }, '', early)]).text)).toEqual(['a{s="1"} 1 -1']);
  });
});

describe('labels', () => {
  test('merged with extra labels (which win), byte-wise order, le last, values escaped', () => {
    const r = prom([
      snap([gauge('m', i(1), { b: '1', le: '9', a: 'x"y\\z\nw', B: '3', _x: '4', sandbox: 'evil' })], {
        sandbox: 'mine',
        c: 'ü',
      }),
    ]);
    expect(samples(r.text)).toEqual([`m{B="3",_x="4",a="x\\"y\\\\z\\nw",b="1",c="ü",sandbox="mine",le="9"} 1 ${MS}`]);
  });

  test('HELP escapes backslash and newline (not quotes)', () => {
    expect(prom([snap([gauge('m', i(1), {}, 'a\\b\nc "d"')])]).text).toContain('# HELP m a\\\\b\\nc "d"\n');
  });

  test('histogram labels on every series, le after them', () => {
    const h = histogram('h', {
      total: f(1.5),
      min: i(0),
      max: i(0),
      sumOfSquaredDeviations: i(0),
      buckets: [{ upperBound: f(0.5), samples: 2 }],
    });
    expect(samples(prom([snap([{ ...h, labels: { z: '1' } }], { a: '2' })]).text)).toEqual([
      `h_bucket{a="2",z="1",le="0.500000"} 2 ${MS}`,
      `h_sum{a="2",z="1"} 1.500000 ${MS}`,
      `h_count{a="2",z="1"} 2 ${MS}`,
      `h_min{a="2",z="1"} 0 ${MS}`,
      `h_max{a="2",z="1"} 0 ${MS}`,
      `h_ssd{a="2",z="1"} 0 ${MS}`,
    ]);
  });
});

describe('numbers', () => {
  test('ints exactly (int64 extremes, bigint, 10^18), zero, NaN, infinities, six decimals half to even', () => {
    const values: [WireNumber, string][] = [
      [i(9223372036854775807n), '9223372036854775807'],
      [i(-9223372036854775808n), '-9223372036854775808'],
      [i(1000000000000000000n), '1000000000000000000'],
      [i(2 ** 53 - 1), '9007199254740991'],
      [i(-7), '-7'],
      [{ int: 0, float: 0 }, '0'],
      [{ int: 0, float: -0 }, '0'],
      [{ int: 5, float: 2.5 }, '5'],
      [f(Number.NaN), 'NaN'],
      [f(Infinity), '+Inf'],
      [f(-Infinity), '-Inf'],
      [f(2.5), '2.500000'],
      [f(1), '1.000000'],
      [f(0.1), '0.100000'],
      [f(1e20), '100000000000000000000.000000'],
      [f(1e-7), '0.000000'],
      [f(-1e-7), '-0.000000'],
      [f(0.0078125), '0.007812'],
      [f(-0.0078125), '-0.007812'],
      [f(0.0234375), '0.023438'],
      [f(5e-324), '0.000000'],
    ];
    const data = values.map(([v], k) => gauge(`g${String(k).padStart(2, '0')}`, v));
    expect(samples(prom([snap(data)]).text).map((l) => l.split(' ')[1])).toEqual(values.map(([, s]) => s));
  });

  test('bucket counts add up beyond 2^64', () => {
    const h = histogram('h', {
      total: i(1),
      min: i(1),
      max: i(1),
      sumOfSquaredDeviations: f(0.5),
      buckets: [
        { upperBound: i(-9223372036854775808n), samples: 18446744073709551615n },
        { upperBound: f(Infinity), samples: 1 },
      ],
    });
    const lines = samples(prom([snap([h])]).text);
    expect(lines[0]).toBe(`h_bucket{le="-9223372036854775808"} 18446744073709551615 ${MS}`);
    expect(lines[1]).toBe(`h_bucket{le="+Inf"} 18446744073709551616 ${MS}`);
    expect(lines[3]).toBe(`h_count 18446744073709551616 ${MS}`);
  });
});

describe('refusals', () => {
  const rules = (snapshots: ReferenceSnapshot[]) =>
    prom(snapshots).skipped.map((s) => `${s.slot} ${s.metric} ${s.rule}`);

  test('each rule skips the point whole', () => {
    const r = prom([
      snap(
        [
          gauge('ok', i(1)),
          gauge('1bad', i(1)),
          gauge('m', i(1), { 'a-b': 'x' }),
          gauge('m', i(1), { __name__: 'x' }),
          point('m', 7, i(1)),
          point('m', 1, undefined),
          point('h', 3, i(1)),
          { ...fooDist, labels: { le: '1' } },
        ],
        {},
        '',
      ),
      snap([gauge('ok', i(2))], { 'bad-key': 'v' }),
    ]);
    expect(samples(r.text)).toEqual([`ok 1 ${MS}`]);
    expect(r.skipped.map((s) => `${s.slot} ${s.metric} ${s.rule}`).sort()).toEqual([
      '0 1bad invalid-metric-name',
      '0 foo_dist invalid-label',
      '0 h no-value',
      '0 m invalid-label',
      '0 m invalid-label',
      '0 m no-value',
      '0 m unknown-type',
      '1 ok invalid-extra-label',
    ]);
  });

  test('the first written type of a family wins', () => {
    const r = prom([
      snap([gauge('x_y', i(1), { bad$: '1' }), counter('x_y', i(1), {}, 'first')], { sandbox: 'a' }, 'p_'),
      snap([gauge('y', i(3))], { sandbox: 'b' }, 'p_x_'),
    ]);
    expect(r.text).toContain(`# HELP p_x_y first\n# TYPE p_x_y counter\np_x_y{sandbox="a"} 1 ${MS}\n\n#`);
    expect(r.skipped.map((s) => `${s.slot} ${s.rule}`)).toEqual(['0 invalid-label', '1 type-conflict']);
  });

  test('duplicate series: within a snapshot, and across snapshots unless a label tells them apart', () => {
    expect(
      rules([
        snap([gauge('m', i(1), { a: '1' }), gauge('m', i(2), { a: '1' })], { sandbox: 's' }),
        snap([gauge('m', i(3), { sandbox: 's', a: '1' })]),
        snap([gauge('m', i(4), { a: '1' })], { sandbox: 't' }),
        snap([gauge('m', i(5), { sandbox: 't' })], { a: '1' }),
      ]),
    ).toEqual(['0 m duplicate', '1 m duplicate', '3 m duplicate']);
  });

  test('a family named like a series of a histogram family is left out', () => {
    const r = prom([snap([fooDist, gauge('foo_dist_count', i(1)), gauge('foo_dist_counts', i(2))])]);
    expect(r.text).toContain(`foo_dist_counts 2 ${MS}`);
    expect(r.text).not.toContain('foo_dist_count 1');
    expect(r.skipped.map((s) => `${s.metric} ${s.rule}`)).toEqual(['foo_dist_count histogram-series']);
  });
});

describe('OpenMetrics', () => {
  const dist = histogram(
    'foo_dist',
    {
      total: i(126),
      min: i(0),
      max: i(99),
      sumOfSquaredDeviations: f(8187.5),
      buckets: [
        { upperBound: i(0), samples: 1 },
        { upperBound: i(4), samples: 3 },
        { upperBound: f(Infinity), samples: 1 },
      ],
    },
    {},
    'A distribution about "foo"',
  );

  test('gauge, counter without and with _total, histogram: byte for byte', () => {
    const r = om([
      snap(
        [
          gauge('g', i(3), {}, 'A gauge'),
          counter('opens', i(7), { fd: 'a"b' }, 'Opens.\nMore.'),
          counter('reads_total', i(2)),
          dist,
        ],
        { sandbox: 's1' },
        'runsc_',
      ),
    ]);
    expect(r.text).toBe(
      '# HELP runsc_foo_dist A distribution about \\"foo\\"\n# TYPE runsc_foo_dist histogram\n' +
        `runsc_foo_dist_bucket{sandbox="s1",le="0"} 1 ${SEC}\n` +
        `runsc_foo_dist_bucket{sandbox="s1",le="4"} 4 ${SEC}\n` +
        `runsc_foo_dist_bucket{sandbox="s1",le="+Inf"} 5 ${SEC}\n` +
        `runsc_foo_dist_sum{sandbox="s1"} 126 ${SEC}\n` +
        `runsc_foo_dist_count{sandbox="s1"} 5 ${SEC}\n` +
        '# HELP runsc_g A gauge\n# TYPE runsc_g gauge\n' +
        `runsc_g{sandbox="s1"} 3 ${SEC}\n` +
        '# HELP runsc_opens Opens.\\nMore.\n# TYPE runsc_opens counter\n' +
        `runsc_opens_total{fd="a\\"b",sandbox="s1"} 7 ${SEC}\n` +
        '# TYPE runsc_reads counter\n' +
        `runsc_reads_total{sandbox="s1"} 2 ${SEC}\n` +
        '# EOF\n',
    );
    expect([...r.metricsWritten].sort()).toEqual(['runsc_foo_dist', 'runsc_g', 'runsc_opens', 'runsc_reads_total']);
  });

  test('unknown type; seconds timestamps (whole, and before 1970); a +Inf bucket added; # EOF alone', () => {
    const whole = { seconds: 1716229722, nanos: 999_999 };
    const early = { seconds: -1, nanos: 999_000_000 }; // -1 ms
    const h = histogram('h', {
      total: f(1.5),
      min: i(0),
      max: i(2),
      sumOfSquaredDeviations: f(1),
      buckets: [{ upperBound: i(1), samples: 2 }],
    });
    expect(om([snap([point('u', 0, i(1))], {}, '', whole), snap([h], { s: 'x' }, '', early)]).text).toBe(
      '# TYPE h histogram\nh_bucket{s="x",le="1"} 2 -0.001\nh_bucket{s="x",le="+Inf"} 2 -0.001\n' +
        'h_sum{s="x"} 1.500000 -0.001\nh_count{s="x"} 2 -0.001\n' +
        '# TYPE u unknown\nu 1 1716229722\n# EOF\n',
    );
    expect(om([]).text).toBe('# EOF\n');
    expect(om([snap([])]).text).toBe('# EOF\n');
  });

  test('a name wanted by two families: the later family in name order is left out', () => {
    const empty = { total: i(0), min: i(0), max: i(0), sumOfSquaredDeviations: i(0), buckets: [] };
    const r = om([
      snap([counter('a', i(1)), counter('a_total', i(2)), gauge('b_total', i(3)), counter('b', i(4))]),
      snap([histogram('h', empty), gauge('h_created', i(5)), gauge('h_min', i(6))], { sandbox: 'x' }),
    ]);
    expect(r.text).toBe(
      `# TYPE a counter\na_total 1 ${SEC}\n# TYPE b counter\nb_total 4 ${SEC}\n` +
        `# TYPE h histogram\nh_bucket{sandbox="x",le="+Inf"} 0 ${SEC}\nh_sum{sandbox="x"} 0 ${SEC}\n` +
        `h_count{sandbox="x"} 0 ${SEC}\n# EOF\n`,
    );
    expect(r.skipped.map((s) => `${s.metric} ${s.rule}`).sort()).toEqual([
      'a_total openmetrics-clash',
      'b_total openmetrics-clash',
      'h_created openmetrics-clash',
      'h_min histogram-series',
    ]);
  });
});
