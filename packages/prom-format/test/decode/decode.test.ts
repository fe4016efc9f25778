import { describe, expect, test } from 'vitest';
import {
  DecodeError,
  decodeExportResult,
  decodeRegistration,
  decodeSnapshot,
  parseJson,
  parseRfc3339,
  ZERO,
} from '../../src/index.js';
import { readCapture } from '../support/captures.js';

const fixture = (name: string): string => readCapture(name);
const resultOf = (name: string): unknown => (parseJson(fixture(name)) as { result: unknown }).result;

function decodeError(fn: () => unknown): DecodeError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DecodeError) return err;
    throw new Error(`expected a DecodeError, got ${String(err)}`);
  }
  throw new Error('expected a DecodeError, nothing was thrown');
}

/** Decodes an export result given as JSON text. */
const decodeText = (text: string): unknown => decodeExportResult(parseJson(text));

const W = '"when":"2026-11-27T22:48:05.333741011Z"';
const okPoint = '{"metric":{"name":"ok","type":1,"help":""},"val":{}}';
/** An export result whose data[3] is `dp` (three good points before it). */
const withPoint = (dp: string): string => `{"snapshot":{${W},"data":[${okPoint},${okPoint},${okPoint},${dp}]}}`;

describe('real captures', () => {
  test('export-metrics.wire.json', () => {
    const { snapshot } = decodeExportResult(resultOf('export-metrics.wire.json'));
    expect(snapshot.when).toEqual(parseRfc3339('2026-11-27T22:48:05.333741011Z'));
    expect(snapshot.when).toEqual({ seconds: 1795819685, nanos: 333741011 });
    expect(snapshot.data).toHaveLength(7);
    expect(snapshot.data[0]).toEqual({
      metric: { name: 'fs_opens', type: 2, help: 'Number of file opens.' },
      labels: {},
      number: { int: 10, float: 0 },
    });
    const sys = snapshot.data.find((d) => d.metric.name === 'unimplemented_syscalls')!;
    expect(sys.labels).toEqual({ sysno: '334' });
    expect(sys.number).toEqual({ int: 5, float: 0 });
    const zeroGauge = snapshot.data.find((d) => d.metric.name === 'netstack_tcp_current_open')!;
    expect(zeroGauge.metric.type).toBe(1);
    expect(zeroGauge.number).toBe(ZERO); // `{}` is the shared zero
    expect(zeroGauge.histogramValue).toBeUndefined();
  });

  test('filtered and created-sandbox captures', () => {
    const f = decodeExportResult(resultOf('export-metrics-filtered.wire.json')).snapshot;
    expect(f.data.map((d) => d.metric.name)).toEqual(['fs_reads', 'fs_opens']);
    const c = decodeExportResult(resultOf('export-metrics-created-sandbox.wire.json')).snapshot;
    expect(c.data[1]!.labels).toEqual({ weirdness_type: 'watchdog_stuck_startup' });
  });

  test('pretty-printed capture decodes like the wire one', () => {
    expect(decodeExportResult(resultOf('export-metrics.pretty.json'))).toEqual(
      decodeExportResult(resultOf('export-metrics.wire.json')),
    );
  });

  test('registered-metrics.wire.json', () => {
    const raw = resultOf('registered-metrics.wire.json') as { RegisteredMetrics: unknown };
    const reg = decodeRegistration(raw.RegisteredMetrics, '$.result.RegisteredMetrics');
    expect(reg.metrics).toHaveLength(174);
    expect(reg.metrics.filter((m) => m.cumulative)).toHaveLength(172);
    expect(reg.metrics.filter((m) => m.units === 1)).toHaveLength(4);
    expect(reg.metrics.filter((m) => m.sync)).toHaveLength(3);
    expect(reg.metrics.every((m) => m.type === 0)).toBe(true);
    const sys = reg.metrics.find((m) => m.prometheusName === 'unimplemented_syscalls')!;
    expect(sys.name).toBe('/unimplemented_syscalls');
    expect(sys.fields).toHaveLength(1);
    expect(sys.fields[0]!.fieldName).toBe('sysno');
    expect(sys.fields[0]!.allowedValues).toHaveLength(2002);
    const w = reg.metrics.find((m) => m.prometheusName === 'weirdness')!;
    expect(w.fields[0]!.allowedValues).toHaveLength(5);
    expect(w.distributionBucketLowerBounds).toEqual([]);
    expect(reg.stages.length).toBeGreaterThan(0);
  });

  test('empty match: no data key', () => {
    const s = decodeSnapshot(parseJson(`{${W}}`));
    expect(s.data).toEqual([]);
  });
});

describe('malformed shapes are DecodeErrors with a path', () => {
  test.each([
    ['{}', '$.snapshot', /missing snapshot/],
    ['{"snapshot":null}', '$.snapshot', /missing snapshot/],
    ['[]', '$', /export result object/],
    ['{"snapshot":[]}', '$.snapshot', /Snapshot object/],
    ['{"snapshot":{"data":[]}}', '$.snapshot.when', /missing snapshot time/],
    ['{"snapshot":{"when":5}}', '$.snapshot.when', /RFC 3339/],
    ['{"snapshot":{"when":"yesterday"}}', '$.snapshot.when', /RFC 3339/],
    ['{"snapshot":{"when":"2026-13-01T00:00:00Z"}}', '$.snapshot.when', /month/],
    [`{"snapshot":{${W},"data":{}}}`, '$.snapshot.data', /array of data points/],
    [`{"snapshot":{${W},"data":[5]}}`, '$.snapshot.data[0]', /Data object/],
    [withPoint('{"val":{}}'), '$.snapshot.data[3].metric', /missing metric/],
    [withPoint('{"metric":null,"val":{}}'), '$.snapshot.data[3].metric', /missing metric/],
    [withPoint('{"metric":"x","val":{}}'), '$.snapshot.data[3].metric', /Metric object/],
    [withPoint('{"metric":{"name":5}}'), '$.snapshot.data[3].metric.name', /string/],
    [withPoint('{"metric":{"help":true}}'), '$.snapshot.data[3].metric.help', /string/],
    [withPoint('{"metric":{"type":"2"}}'), '$.snapshot.data[3].metric.type', /integer/],
    [withPoint('{"metric":{"type":1.5}}'), '$.snapshot.data[3].metric.type', /integer/],
    [withPoint('{"metric":{"type":2e0}}'), '$.snapshot.data[3].metric.type', /integer literal/],
    [withPoint('{"metric":{"type":92233720368547758070}}'), '$.snapshot.data[3].metric.type', /out of int64 range/],
    [withPoint('{"metric":{"name":"a"},"labels":[]}'), '$.snapshot.data[3].labels', /label map/],
    [withPoint('{"metric":{"name":"a"},"labels":{"a":5}}'), '$.snapshot.data[3].labels.a', /strings/],
    [
      withPoint('{"metric":{"name":"a"},"external_labels":{"sandbox":"victim"}}'),
      '$.snapshot.data[3].external_labels',
      /refused/,
    ],
    [withPoint('{"metric":{"name":"a"},"external_labels":"x"}'), '$.snapshot.data[3].external_labels', /label map/],
    [withPoint('{"metric":{"name":"a"},"val":5}'), '$.snapshot.data[3].val', /Number object/],
    [withPoint('{"metric":{"name":"a"},"val":{"int":1.5}}'), '$.snapshot.data[3].val.int', /integer/],
    [withPoint('{"metric":{"name":"a"},"val":{"int":1e3}}'), '$.snapshot.data[3].val.int', /integer literal/],
    [withPoint('{"metric":{"name":"a"},"val":{"int":1.0}}'), '$.snapshot.data[3].val.int', /integer literal/],
    [withPoint('{"metric":{"name":"a"},"val":{"int":"5"}}'), '$.snapshot.data[3].val.int', /integer/],
    [withPoint('{"metric":{"name":"a"},"val":{"int":true}}'), '$.snapshot.data[3].val.int', /integer/],
    [
      withPoint('{"metric":{"name":"a"},"val":{"int":9223372036854775808}}'),
      '$.snapshot.data[3].val.int',
      /out of int64 range/,
    ],
    [
      withPoint('{"metric":{"name":"a"},"val":{"int":-9223372036854775809}}'),
      '$.snapshot.data[3].val.int',
      /out of int64 range/,
    ],
    [withPoint('{"metric":{"name":"a"},"val":{"float":"abc"}}'), '$.snapshot.data[3].val.float', /number/],
    [withPoint('{"metric":{"name":"a"},"val":{"float":{}}}'), '$.snapshot.data[3].val.float', /number/],
    [withPoint('{"metric":{"name":"a"},"val":{"float":1e400}}'), '$.snapshot.data[3].val.float', /float64 range/],
    [withPoint('{"metric":{"name":"a"},"histogram":5}'), '$.snapshot.data[3].histogram', /Histogram object/],
    [
      withPoint('{"metric":{"name":"a"},"histogram":{"total":{"int":1.5}}}'),
      '$.snapshot.data[3].histogram.total.int',
      /integer/,
    ],
    [withPoint('{"metric":{"name":"a"},"histogram":{"ssd":[]}}'), '$.snapshot.data[3].histogram.ssd', /Number object/],
    [
      withPoint('{"metric":{"name":"a"},"histogram":{"buckets":{}}}'),
      '$.snapshot.data[3].histogram.buckets',
      /array of buckets/,
    ],
    [
      withPoint('{"metric":{"name":"a"},"histogram":{"buckets":[{},5]}}'),
      '$.snapshot.data[3].histogram.buckets[1]',
      /Bucket object/,
    ],
    [
      withPoint('{"metric":{"name":"a"},"histogram":{"buckets":[{"n":-1}]}}'),
      '$.snapshot.data[3].histogram.buckets[0].n',
      /unsigned/,
    ],
    [
      withPoint('{"metric":{"name":"a"},"histogram":{"buckets":[{"n":18446744073709551616}]}}'),
      '$.snapshot.data[3].histogram.buckets[0].n',
      /out of uint64 range/,
    ],
    [
      withPoint('{"metric":{"name":"a"},"histogram":{"buckets":[{"n":2.5}]}}'),
      '$.snapshot.data[3].histogram.buckets[0].n',
      /integer/,
    ],
    [
      withPoint('{"metric":{"name":"a"},"histogram":{"buckets":[{},{"le":{"float":"x"}}]}}'),
      '$.snapshot.data[3].histogram.buckets[1].le.float',
      /number/,
    ],
    ['{"snapshot":', '$', /invalid JSON/],
  ])('%s -> %s', (text, path, message) => {
    const err = decodeError(() => decodeText(text));
    expect(err.path).toBe(path);
    expect(err.message).toMatch(message);
    expect(err.message.startsWith(`${path}: `)).toBe(true);
  });

  test('a rounded big integer from plain JSON.parse is refused, not trusted', () => {
    const err = decodeError(() =>
      decodeExportResult(JSON.parse(withPoint('{"metric":{"name":"a"},"val":{"int":9223372036854775807}}'))),
    );
    expect(err.path).toBe('$.snapshot.data[3].val.int');
    expect(err.message).toMatch(/parseJson/);
  });

  test('only the documented float strings are accepted', () => {
    const err = decodeError(() => decodeText(withPoint('{"metric":{"name":"a"},"val":{"float":"Inf"}}')));
    expect(err.path).toBe('$.snapshot.data[3].val.float');
  });

  test('decodeSnapshot roots paths where it is told', () => {
    const err = decodeError(() => decodeSnapshot({ when: 'x' }, '$.result.snapshot'));
    expect(err.path).toBe('$.result.snapshot.when');
  });

  test('no input makes the decoder throw anything but DecodeError (mutation fuzz)', () => {
    const base = fixture('export-metrics-created-sandbox.wire.json');
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const alphabet = '{}[]":,0123456789.eE-+ntfalsu\\ ';
    let decoded = 0;
    let refused = 0;
    for (let i = 0; i < 3000; i++) {
      let t = base;
      const edits = 1 + rnd(3);
      for (let e = 0; e < edits; e++) {
        const at = rnd(t.length);
        const op = rnd(3);
        const ch = alphabet[rnd(alphabet.length)]!;
        t =
          op === 0
            ? t.slice(0, at) + t.slice(at + 1)
            : op === 1
              ? t.slice(0, at) + ch + t.slice(at)
              : t.slice(0, at) + ch + t.slice(at + 1);
      }
      try {
        const v = parseJson(t) as { result?: unknown } | null;
        decodeExportResult(typeof v === 'object' && v !== null && !Array.isArray(v) ? v.result : v);
        decoded++;
      } catch (err) {
        expect(err, t).toBeInstanceOf(DecodeError);
        refused++;
      }
    }
    expect(decoded).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });
});

describe('Go decoding semantics', () => {
  test('keys match case-insensitively, including Unicode folds to ASCII', () => {
    const s = decodeText(
      `{"SNAPSHOT":{"When":"2026-11-27T22:48:05Z","DATA":[{"Metric":{"NAME":"a","Type":2,"HeLp":"h"},"Labels":{"Sysno":"1"},"VAL":{"Int":5}},{"metric":{"name":"b","type":3},"Histogram":{"ſsd":{"FLOAT":2.5},"TOTAL":{"int":3},"Buckets":[{"LE":{"int":1},"N":2}]}}]}}`,
    ) as { snapshot: { data: unknown[] } };
    expect(s.snapshot.data[0]).toEqual({
      metric: { name: 'a', type: 2, help: 'h' },
      labels: { Sysno: '1' },
      number: { int: 5, float: 0 },
    });
    expect(s.snapshot.data[1]).toEqual({
      metric: { name: 'b', type: 3, help: '' },
      labels: {},
      histogramValue: {
        total: { int: 3, float: 0 },
        min: ZERO,
        max: ZERO,
        sumOfSquaredDeviations: { int: 0, float: 2.5 },
        buckets: [{ upperBound: { int: 1, float: 0 }, samples: 2 }],
      },
    });
  });

  test('unknown keys are ignored, null means absent, the later duplicate wins', () => {
    const s = decodeText(
      withPoint(
        '{"metric":{"name":"a","type":1,"help":null,"x":1},"labels":null,"external_labels":null,"val":{"int":1,"Int":2},"histogram":null,"extra":[1,{"deep":true}]}',
      ),
    ) as { snapshot: { data: unknown[] } };
    expect(s.snapshot.data[3]).toEqual({
      metric: { name: 'a', type: 1, help: '' },
      labels: {},
      number: { int: 2, float: 0 },
    });
    const noVal = decodeText(withPoint('{"metric":{"name":"a"},"val":null}')) as {
      snapshot: { data: { number?: unknown }[] };
    };
    expect(noVal.snapshot.data[3]!).not.toHaveProperty('number');
    expect(decodeSnapshot({ when: '2026-11-27T22:48:05Z', data: null }).data).toEqual([]);
  });

  test('empty external_labels are fine; a null label value is ""', () => {
    const s = decodeText(
      withPoint('{"metric":{"name":"a"},"external_labels":{},"labels":{"a":null,"b":"x"},"val":{}}'),
    ) as {
      snapshot: { data: { labels: unknown }[] };
    };
    expect(s.snapshot.data[3]!.labels).toEqual({ a: '', b: 'x' });
  });

  test('numbers: {} is ZERO, the key decides int vs float, -0 is zero', () => {
    const num = (v: string): unknown =>
      (decodeText(withPoint(`{"metric":{"name":"a"},"val":${v}}`)) as { snapshot: { data: { number: unknown }[] } })
        .snapshot.data[3]!.number;
    expect(num('{}')).toBe(ZERO);
    expect(num('{"int":0,"float":0}')).toBe(ZERO);
    expect(num('{"float":-0.0}')).toBe(ZERO);
    expect(num('{"float":3}')).toEqual({ int: 0, float: 3 });
    expect(num('{"float":3.0}')).toEqual({ int: 0, float: 3 });
    expect(num('{"float":2.5}')).toEqual({ int: 0, float: 2.5 });
    expect(num('{"int":-7}')).toEqual({ int: -7, float: 0 });
    expect(num('{"int":5,"float":2.5}')).toEqual({ int: 5, float: 2.5 });
    expect(num('{"float":"+Inf"}')).toEqual({ int: 0, float: Infinity });
    expect(num('{"float":"-Inf"}')).toEqual({ int: 0, float: -Infinity });
    expect(num('{"float":"NaN"}')).toEqual({ int: 0, float: NaN });
  });

  test('huge integers stay exact', () => {
    const s = decodeText(
      withPoint(
        '{"metric":{"name":"a","type":3},"histogram":{"total":{"int":9223372036854775807},"min":{"int":-9223372036854775808},"max":{"int":9007199254740993},"buckets":[{"le":{"int":-9223372036854775808},"n":18446744073709551615},{"le":{"float":"+Inf"},"n":9007199254740991}]}}',
      ),
    ) as {
      snapshot: { data: { histogramValue: { total: unknown; min: unknown; max: unknown; buckets: unknown[] } }[] };
    };
    const h = s.snapshot.data[3]!.histogramValue;
    expect(h.total).toEqual({ int: 9223372036854775807n, float: 0 });
    expect(h.min).toEqual({ int: -9223372036854775808n, float: 0 });
    expect(h.max).toEqual({ int: 9007199254740993n, float: 0 });
    expect(h.buckets).toEqual([
      { upperBound: { int: -9223372036854775808n, float: 0 }, samples: 18446744073709551615n },
      { upperBound: { int: 0, float: Infinity }, samples: 9007199254740991 },
    ]);
  });

  test('labels objects from the parser are reused (no copy on the hot path)', () => {
    const raw = parseJson(withPoint('{"metric":{"name":"a"},"labels":{"x":"1"},"val":{}}')) as {
      snapshot: { data: { labels: object }[] };
    };
    const decoded = decodeExportResult(raw);
    expect(decoded.snapshot.data[3]!.labels).toBe(raw.snapshot.data[3]!.labels);
  });
});

describe('registration', () => {
  test('state-file shape with omitted zero fields', () => {
    const reg = decodeRegistration(
      parseJson(
        '{"metrics":[{"name":"/a/b","prometheus_name":"a_b","description":"d","cumulative":true,"sync":true,"type":1,"units":1,"fields":[{"field_name":"f","allowed_values":["x",""]}],"distribution_bucket_lower_bounds":[0,1,9223372036854775807]},{"name":"/g"}],"stages":["s1"],"unknown":5}',
      ),
    );
    expect(reg).toEqual({
      metrics: [
        {
          name: '/a/b',
          prometheusName: 'a_b',
          description: 'd',
          cumulative: true,
          sync: true,
          type: 1,
          units: 1,
          fields: [{ fieldName: 'f', allowedValues: ['x', ''] }],
          distributionBucketLowerBounds: [0, 1, 9223372036854775807n],
        },
        {
          name: '/g',
          prometheusName: '',
          description: '',
          cumulative: false,
          sync: false,
          type: 0,
          units: 0,
          fields: [],
          distributionBucketLowerBounds: [],
        },
      ],
      stages: ['s1'],
    });
    expect(decodeRegistration({})).toEqual({ metrics: [], stages: [] });
    expect(decodeRegistration({ METRICS: [{ Prometheus_Name: 'x' }] }).metrics[0]!.prometheusName).toBe('x');
  });

  test.each([
    ['null', '$', /MetricRegistration object/],
    ['{"metrics":{}}', '$.metrics', /array of metrics/],
    ['{"metrics":[{},{},{"type":"x"}]}', '$.metrics[2].type', /integer/],
    ['{"metrics":[{"type":2147483648}]}', '$.metrics[0].type', /int32/],
    ['{"metrics":[{"units":1e0}]}', '$.metrics[0].units', /integer literal/],
    ['{"metrics":[{"cumulative":"yes"}]}', '$.metrics[0].cumulative', /true or false/],
    [
      '{"metrics":[{"distribution_bucket_lower_bounds":[0,1.5]}]}',
      '$.metrics[0].distribution_bucket_lower_bounds[1]',
      /integer/,
    ],
    [
      '{"metrics":[{"distribution_bucket_lower_bounds":[9223372036854775808]}]}',
      '$.metrics[0].distribution_bucket_lower_bounds[0]',
      /int64/,
    ],
    [
      '{"metrics":[{"fields":[{"field_name":"f","allowed_values":["a",5]}]}]}',
      '$.metrics[0].fields[0].allowed_values[1]',
      /string/,
    ],
    ['{"metrics":[{"fields":[7]}]}', '$.metrics[0].fields[0]', /MetricField object/],
    ['{"stages":"x"}', '$.stages', /array of strings/],
  ])('%s -> %s', (text, path, message) => {
    const err = decodeError(() => decodeRegistration(parseJson(text)));
    expect(err.path).toBe(path);
    expect(err.message).toMatch(message);
  });
});

describe('Metric objects', () => {
  const metricOf = (metricJson: string): { raw: unknown; decoded: unknown } => {
    const raw = parseJson(`{"snapshot":{${W},"data":[{"metric":${metricJson},"val":{}}]}}`) as {
      snapshot: { data: { metric: unknown }[] };
    };
    const decoded = decodeExportResult(raw).snapshot.data[0]!.metric;
    return { raw: raw.snapshot.data[0]!.metric, decoded };
  };

  test("the parser's object is the Metric when it has exactly the model's shape", () => {
    const { raw, decoded } = metricOf('{"name":"a","type":2,"help":"h"}');
    expect(decoded).toBe(raw);
    expect(decoded).toEqual({ name: 'a', type: 2, help: 'h' });
  });

  test('any other shape is copied into the model form (defaults filled, Go key folding, -0)', () => {
    for (const [json, want] of [
      ['{"name":"a","type":2}', { name: 'a', type: 2, help: '' }],
      ['{"name":"a","type":2,"help":null}', { name: 'a', type: 2, help: '' }],
      ['{"Name":"a","type":2,"help":"h"}', { name: 'a', type: 2, help: 'h' }],
      ['{"name":"a","type":-0,"help":"h"}', { name: 'a', type: 0, help: 'h' }],
      ['{"name":"a","type":2,"help":"h","extra":1}', { name: 'a', type: 2, help: 'h' }],
    ] as const) {
      const { raw, decoded } = metricOf(json);
      expect(decoded, json).not.toBe(raw);
      expect(decoded, json).toEqual(want);
      expect(Object.is((decoded as { type: number }).type, -0), json).toBe(false);
    }
  });

  test('a wrongly typed field in the exact shape is still a DecodeError', () => {
    expect(
      decodeError(() => decodeText(withPoint('{"metric":{"name":"a","type":"2","help":""},"val":{}}'))).message,
    ).toMatch(/type/);
    expect(
      decodeError(() => decodeText(withPoint('{"metric":{"name":"a","type":2.5,"help":""},"val":{}}'))).message,
    ).toMatch(/type/);
  });
});
