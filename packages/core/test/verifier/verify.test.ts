import { type Data, pointsOf, type Snapshot, type SnapshotPoints } from '@org/metricserver-prom-format';
import { describe, expect, it } from 'vitest';
import { Verifier, type VerifyResult } from '../../src/verifier/index.js';
import { at, DIST, flt, hist, histPoint, int, meta, point, registration, snap, T0, ZERO } from './helpers.js';

const SEC = 1_000_000_000;

function code(r: VerifyResult): string {
  return r.ok ? 'ok' : r.reason.code;
}
function message(r: VerifyResult): string {
  if (r.ok) throw new Error('expected a rejection');
  return r.reason.message;
}

const counterV = () => new Verifier(registration(meta('c')));

describe('Verifier.verify: snapshot age (steps 1-2)', () => {
  const v = () => new Verifier(registration());
  it('accepts a snapshot taken exactly now', () => {
    expect(code(v().verify(snap(T0), T0))).toBe('ok');
  });
  it('rejects a snapshot 1 ns in the future', () => {
    const r = v().verify(snap(at(1)), T0);
    expect(code(r)).toBe('future');
    expect(message(r)).toMatch(/^snapshot is from the future/);
  });
  it('accepts a snapshot exactly 10 s old and rejects one 10 s + 1 ns old', () => {
    expect(code(v().verify(snap(at(-10 * SEC)), T0))).toBe('ok');
    const r = v().verify(snap(at(-10 * SEC - 1)), T0);
    expect(code(r)).toBe('too-old');
    expect(message(r)).toMatch(
      /^snapshot is too old; it is from \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.499999999 \+0000 UTC, expected at least \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.5 \+0000 UTC \(10s from now\)$/,
    );
  });
  it('compares with nanosecond precision across a seconds boundary', () => {
    const now = { seconds: 100, nanos: 0 };
    expect(code(v().verify(snap({ seconds: 89, nanos: 999_999_999 }), now))).toBe('too-old');
    expect(code(v().verify(snap({ seconds: 90, nanos: 0 }), now))).toBe('ok');
    expect(code(v().verify(snap({ seconds: 100, nanos: 1 }), now))).toBe('future');
  });
});

describe('Verifier.verify: data points against the registration (step 3)', () => {
  it('rejects an unknown metric', () => {
    const r = counterV().verify(snap(T0, point('nope', int(1))), T0);
    expect(code(r)).toBe('unknown-metric');
    expect(message(r)).toBe('snapshot contains unknown metric "nope"');
  });

  it('rejects a metric whose type or help differs from the registration', () => {
    const v = counterV();
    const r = v.verify(snap(T0, point('c', int(1), {}, 1)), T0);
    expect(code(r)).toBe('bad-definition');
    expect(message(r)).toMatch(
      /^metric "c": invalid metric definition: got \{name:"c" type:1 help:"help of c"\} want \{name:"c" type:2 help:"help of c"\}$/,
    );
    const wrongHelp: Data = { metric: { name: 'c', type: 2, help: 'other' }, labels: {}, number: int(1) };
    expect(code(v.verify(snap(T0, wrongHelp), T0))).toBe('bad-definition');
  });

  it('maps cumulative uint64 to counter, non-cumulative to gauge, distribution to histogram', () => {
    const v = new Verifier(registration(meta('c'), meta('g', { cumulative: false }), DIST('d', { cumulative: true })));
    const r = v.verify(snap(T0, point('c', int(1)), point('g', int(1), {}, 1), histPoint('d', hist([0, 0, 0, 0]))), T0);
    expect(r).toEqual({ ok: true });
  });

  describe('fields', () => {
    const fielded = () =>
      new Verifier(registration(meta('s', { fields: [{ fieldName: 'sysno', allowedValues: ['0', '1', ''] }] })));
    it('rejects a wrong number of labels', () => {
      const r = fielded().verify(snap(T0, point('s', int(1))), T0);
      expect(code(r)).toBe('field-count');
      expect(message(r)).toBe('metric "s": invalid number of fields: got 0 want 1');
      expect(code(counterV().verify(snap(T0, point('c', int(1), { a: 'b' })), T0))).toBe('field-count');
    });
    it('rejects a missing field', () => {
      const r = fielded().verify(snap(T0, point('s', int(1), { other: '0' })), T0);
      expect(code(r)).toBe('missing-field');
      expect(message(r)).toBe('metric "s": did not specify field "sysno"');
    });
    it('does not take an inherited property for a field', () => {
      const v = new Verifier(registration(meta('s', { fields: [{ fieldName: 'constructor', allowedValues: ['x'] }] })));
      expect(code(v.verify(snap(T0, point('s', int(1), { other: 'x' })), T0))).toBe('missing-field');
    });
    it('rejects a value that is not allowed, and accepts the empty string when listed', () => {
      const r = fielded().verify(snap(T0, point('s', int(1), { sysno: '7' })), T0);
      expect(code(r)).toBe('value-not-allowed');
      expect(message(r)).toBe('metric "s": value "7" is not allowed for field sysno');
      expect(code(fielded().verify(snap(T0, point('s', int(1), { sysno: '' })), T0))).toBe('ok');
    });
    it('rejects the same label combination twice in one snapshot', () => {
      const r = fielded().verify(snap(T0, point('s', int(1), { sysno: '1' }), point('s', int(2), { sysno: '1' })), T0);
      expect(code(r)).toBe('duplicate-series');
      expect(message(r)).toBe('metric "s": combination of field values "1" was already seen');
      expect(
        code(fielded().verify(snap(T0, point('s', int(1), { sysno: '1' }), point('s', int(2), { sysno: '0' })), T0)),
      ).toBe('ok');
    });
    it('rejects a field-less metric twice in one snapshot', () => {
      expect(code(counterV().verify(snap(T0, point('c', int(1)), point('c', int(1))), T0))).toBe('duplicate-series');
    });
    it('does not confuse combinations whose values contain commas (Go does)', () => {
      const v = new Verifier(
        registration(
          meta('m', {
            fields: [
              { fieldName: 'a', allowedValues: ['x,y', 'x'] },
              { fieldName: 'b', allowedValues: ['z', 'y,z'] },
            ],
          }),
        ),
      );
      const r = v.verify(
        snap(T0, point('m', int(1), { a: 'x,y', b: 'z' }), point('m', int(1), { a: 'x', b: 'y,z' })),
        T0,
      );
      expect(r).toEqual({ ok: true });
      const dup = v.verify(
        snap(at(1), point('m', int(1), { a: 'x', b: 'y,z' }), point('m', int(2), { b: 'y,z', a: 'x' })),
        at(1),
      );
      expect(code(dup)).toBe('duplicate-series');
      expect(message(dup)).toBe('metric "m": combination of field values "x,y,z" was already seen');
    });
    it('forgets the combinations seen once the next snapshot starts', () => {
      const v = fielded();
      expect(code(v.verify(snap(T0, point('s', int(1), { sysno: '1' })), T0))).toBe('ok');
      expect(code(v.verify(snap(T0, point('s', int(1), { sysno: '1' })), T0))).toBe('ok');
    });
  });

  describe('values', () => {
    it('needs exactly one of number and histogram', () => {
      const none: Data = { metric: { name: 'c', type: 2, help: 'help of c' }, labels: {} };
      const r = counterV().verify(snap(T0, none), T0);
      expect(code(r)).toBe('value-count');
      expect(message(r)).toBe('metric "c": invalid number of value fields specified: 0');
      const both: Data = { ...point('c', int(1)), histogramValue: hist([0, 0, 0, 0]) };
      expect(message(counterV().verify(snap(T0, both), T0))).toBe(
        'metric "c": invalid number of value fields specified: 2',
      );
    });
    it('wants a number for a uint64 metric and a histogram for a distribution', () => {
      const r = counterV().verify(
        snap(T0, { ...histPoint('c', hist([0, 0, 0, 0])), metric: { name: 'c', type: 2, help: 'help of c' } }),
        T0,
      );
      expect(code(r)).toBe('not-number');
      expect(message(r)).toBe('metric "c": expected number value for gauge or counter');
      const d = new Verifier(registration(DIST('d')));
      const r2 = d.verify(snap(T0, point('d', int(1), {}, 3)), T0);
      expect(code(r2)).toBe('not-histogram');
      expect(message(r2)).toBe('metric "d": expected histogram value for histogram');
    });
    it('wants integral values for uint64 metrics: 2.5, NaN and Inf fail, {float:2} and negatives pass', () => {
      for (const bad of [flt(2.5), flt(Number.NaN), flt(Number.POSITIVE_INFINITY), flt(1e300)]) {
        const r = counterV().verify(snap(T0, point('c', bad)), T0);
        expect(code(r)).toBe('not-integer');
      }
      expect(message(counterV().verify(snap(T0, point('c', flt(2.5))), T0))).toBe(
        'metric "c": integer metric got non-integer value: 2.5',
      );
      expect(code(counterV().verify(snap(T0, point('c', flt(2))), T0))).toBe('ok');
      const g = new Verifier(registration(meta('g', { cumulative: false })));
      expect(code(g.verify(snap(T0, point('g', int(-5), {}, 1)), T0))).toBe('ok');
    });
    it('accepts extreme integers (int64 min and max) without crashing', () => {
      const g = new Verifier(registration(meta('g', { cumulative: false })));
      expect(code(g.verify(snap(T0, point('g', int(-(2n ** 63n)), {}, 1)), T0))).toBe('ok');
      const c = counterV();
      expect(code(c.verify(snap(T0, point('c', int(2n ** 62n))), T0))).toBe('ok');
      expect(code(c.verify(snap(T0, point('c', int(2n ** 63n - 1n))), T0))).toBe('ok');
      expect(code(c.verify(snap(T0, point('c', int(2n ** 62n))), T0))).toBe('counter-decreased');
    });
    it('rejects a Number with both an integer and a float part instead of guessing', () => {
      const r = counterV().verify(snap(T0, point('c', { int: 3, float: 2 })), T0);
      expect(code(r)).toBe('malformed-number');
      expect(message(r)).toMatch(/both an integer and a floating-point part/);
    });
    it('rejects an int part outside int64', () => {
      expect(code(counterV().verify(snap(T0, point('c', int(2n ** 63n))), T0))).toBe('malformed-number');
    });
  });

  describe('histograms', () => {
    const d = () => new Verifier(registration(DIST('d')));
    it('rejects a wrong bucket count', () => {
      const h = { ...hist([0, 0, 0, 0]), buckets: hist([0, 0, 0, 0]).buckets.slice(0, 3) };
      const r = d().verify(snap(T0, histPoint('d', h)), T0);
      expect(code(r)).toBe('bucket-count');
      expect(message(r)).toBe('metric "d": invalid number of buckets: got 3 want 4');
    });
    it('wants the SSD as a float: {int:4} fails, {} and {float:2} pass', () => {
      const r = d().verify(snap(T0, histPoint('d', hist([0, 1, 0, 0], { ssd: int(4) }))), T0);
      expect(code(r)).toBe('ssd-not-float');
      expect(message(r)).toMatch(/^metric "d": sum of squared deviations must be a floating-point value/);
      expect(code(d().verify(snap(T0, histPoint('d', hist([0, 1, 0, 0], { ssd: ZERO }))), T0))).toBe('ok');
      expect(code(d().verify(snap(T0, histPoint('d', hist([0, 1, 0, 0], { ssd: flt(2) }))), T0))).toBe('ok');
    });
    it('compares bucket bounds exactly: {float:2} is not {int:2}', () => {
      const h = hist([0, 0, 0, 0]);
      const bad = { ...h, buckets: h.buckets.map((b, i) => (i === 2 ? { ...b, upperBound: flt(2) } : b)) };
      const r = d().verify(snap(T0, histPoint('d', bad)), T0);
      expect(code(r)).toBe('bucket-bound');
      expect(message(r)).toBe('metric "d": invalid upper bound for bucket 2 (0-based): got 2.0 want 2');
    });
    it('rejects a malformed bucket sample count', () => {
      const h = hist([0, -1, 0, 0]);
      expect(code(d().verify(snap(T0, histPoint('d', h)), T0))).toBe('malformed-number');
    });
  });

  it('turns the Go crash paths (null snapshot, null point, null metric) into rejections', () => {
    const v = counterV();
    expect(code(v.verify(null as unknown as SnapshotPoints, T0))).toBe('malformed-snapshot');
    expect(code(v.verify(snap(T0, null as unknown as Data), T0))).toBe('malformed-snapshot');
    expect(code(v.verify(snap(T0, { metric: null } as unknown as Data), T0))).toBe('malformed-snapshot');
    expect(code(v.verify(pointsOf({ when: null } as unknown as Snapshot), T0))).toBe('malformed-snapshot');
    expect(code(v.verify(snap(T0, point('c', int(1))), T0))).toBe('ok');
  });
});

describe('Verifier.verify: across snapshots (steps 4-5)', () => {
  it('rejects a snapshot older than the last accepted one; equal timestamps are fine', () => {
    const v = counterV();
    expect(code(v.verify(snap(T0), T0))).toBe('ok');
    expect(code(v.verify(snap(T0), at(SEC)))).toBe('ok');
    const r = v.verify(snap(at(-1)), at(SEC));
    expect(code(r)).toBe('time-went-back');
    expect(message(r)).toMatch(
      /^consecutive snapshots are not chronologically ordered: last verified snapshot was exported at [-\d: ]+\.5 \+0000 UTC, this one is from [-\d: ]+\.499999999 \+0000 UTC$/,
    );
  });

  describe('counters', () => {
    it('accept equal and growing values and reject a decrease', () => {
      const v = counterV();
      expect(code(v.verify(snap(at(0), point('c', int(5))), at(0)))).toBe('ok');
      expect(code(v.verify(snap(at(1), point('c', int(5))), at(1)))).toBe('ok');
      expect(code(v.verify(snap(at(2), point('c', int(9))), at(2)))).toBe('ok');
      const r = v.verify(snap(at(3), point('c', int(8))), at(3));
      expect(code(r)).toBe('counter-decreased');
      expect(message(r)).toBe('metric "c": counter value decreased from 9 to 8');
    });
    it('reject a decrease through whole-number floats (Go misses it)', () => {
      const v = counterV();
      expect(code(v.verify(snap(at(0), point('c', flt(5))), at(0)))).toBe('ok');
      const r = v.verify(snap(at(1), point('c', flt(3))), at(1));
      expect(code(r)).toBe('counter-decreased');
      expect(message(r)).toBe('metric "c": counter value decreased from 5.0 to 3.0');
    });
    it('reject a switch between int and float once a non-zero value was seen; the first value may be either', () => {
      const v = counterV();
      expect(code(v.verify(snap(at(0), point('c', flt(5))), at(0)))).toBe('ok');
      const r = v.verify(snap(at(1), point('c', int(6))), at(1));
      expect(code(r)).toBe('counter-type-changed');
      expect(message(r)).toBe('metric "c": counter number type changed: 5.0 vs 6');
      const w = counterV();
      expect(code(w.verify(snap(at(0), point('c', int(5))), at(0)))).toBe('ok');
      expect(code(w.verify(snap(at(1), point('c', flt(6))), at(1)))).toBe('counter-type-changed');
      expect(code(w.verify(snap(at(2), point('c', ZERO)), at(2)))).toBe('counter-decreased');
    });
    it('keep the value of a series absent from later snapshots', () => {
      const v = new Verifier(registration(meta('s', { fields: [{ fieldName: 'k', allowedValues: ['a', 'b'] }] })));
      expect(code(v.verify(snap(at(0), point('s', int(5), { k: 'a' })), at(0)))).toBe('ok');
      expect(code(v.verify(snap(at(1), point('s', int(1), { k: 'b' })), at(1)))).toBe('ok');
      expect(code(v.verify(snap(at(2), point('s', int(3), { k: 'a' })), at(2)))).toBe('counter-decreased');
    });
    it('do not constrain gauges', () => {
      const g = new Verifier(registration(meta('g', { cumulative: false })));
      expect(code(g.verify(snap(at(0), point('g', int(5), {}, 1)), at(0)))).toBe('ok');
      expect(code(g.verify(snap(at(1), point('g', int(-5), {}, 1)), at(1)))).toBe('ok');
    });
  });

  describe('histograms', () => {
    const d = () => new Verifier(registration(DIST('d')));
    it('reject a bucket count that decreases; Total may decrease', () => {
      const v = d();
      expect(code(v.verify(snap(at(0), histPoint('d', hist([1, 0, 3, 0], { total: int(100) }))), at(0)))).toBe('ok');
      expect(code(v.verify(snap(at(1), histPoint('d', hist([1, 0, 3, 0], { total: int(1) }))), at(1)))).toBe('ok');
      const r = v.verify(snap(at(2), histPoint('d', hist([1, 0, 2, 0]))), at(2));
      expect(code(r)).toBe('histogram-bucket-decreased');
      expect(message(r)).toBe('metric "d": number of samples in bucket 2 (0-based) decreased from 3 to 2');
    });
    it('check min and max only once the previous point had a sample', () => {
      const v = d();
      expect(code(v.verify(snap(at(0), histPoint('d', hist([0, 0, 0, 0], { min: int(9), max: int(9) }))), at(0)))).toBe(
        'ok',
      );
      expect(code(v.verify(snap(at(1), histPoint('d', hist([0, 1, 0, 0], { min: int(1), max: int(1) }))), at(1)))).toBe(
        'ok',
      );
      const up = v.verify(snap(at(2), histPoint('d', hist([0, 1, 0, 0], { min: int(2), max: int(2) }))), at(2));
      expect(code(up)).toBe('histogram-min-increased');
      expect(message(up)).toBe('metric "d": minimum value strictly increased from 1 to 2');
      const down = v.verify(snap(at(2), histPoint('d', hist([1, 1, 0, 0], { min: int(0), max: int(0) }))), at(2));
      expect(code(down)).toBe('histogram-max-decreased');
      expect(message(down)).toBe('metric "d": maximum value strictly decreased from 1 to 0');
      expect(
        code(v.verify(snap(at(2), histPoint('d', hist([1, 1, 0, 0], { min: flt(0.5), max: int(1) }))), at(2))),
      ).toBe('histogram-min-type-changed');
      expect(
        code(v.verify(snap(at(2), histPoint('d', hist([1, 1, 0, 0], { min: int(1), max: flt(1.5) }))), at(2))),
      ).toBe('histogram-max-type-changed');
      expect(
        code(v.verify(snap(at(2), histPoint('d', hist([1, 1, 0, 0], { min: int(-1), max: int(7) }))), at(2))),
      ).toBe('ok');
    });
    it('check the SSD only once the previous point had two samples, and survive an integral-float SSD (Go panics)', () => {
      const v = d();
      expect(code(v.verify(snap(at(0), histPoint('d', hist([0, 1, 0, 0], { ssd: flt(9) }))), at(0)))).toBe('ok');
      expect(code(v.verify(snap(at(1), histPoint('d', hist([0, 2, 0, 0], { ssd: flt(2) }))), at(1)))).toBe('ok'); // 1 sample before: unchecked
      expect(code(v.verify(snap(at(2), histPoint('d', hist([0, 2, 0, 0], { ssd: flt(2) }))), at(2)))).toBe('ok');
      const r = v.verify(snap(at(3), histPoint('d', hist([0, 2, 0, 0], { ssd: flt(1.5) }))), at(3));
      expect(code(r)).toBe('histogram-ssd-decreased');
      expect(message(r)).toBe('metric "d": sum of squared deviations decreased from 2.0 to 1.5');
    });
  });

  describe('a rejected snapshot leaves the state unchanged', () => {
    it('neither its values nor its timestamp are remembered (failure in step 5)', () => {
      const v = new Verifier(registration(meta('a'), meta('b')));
      expect(code(v.verify(snap(at(0), point('a', int(5)), point('b', int(5))), at(0)))).toBe('ok');
      // a=7 passes its own checks, b decreases: the whole snapshot is refused.
      expect(code(v.verify(snap(at(5), point('a', int(7)), point('b', int(4))), at(5)))).toBe('counter-decreased');
      // a=6 is fine against the accepted 5 (7 was never remembered), and at(2) is after the accepted at(0).
      expect(code(v.verify(snap(at(2), point('a', int(6)), point('b', int(5))), at(5)))).toBe('ok');
    });
    it('including a failure in step 3 after earlier points passed', () => {
      const v = new Verifier(registration(meta('a')));
      expect(code(v.verify(snap(at(0), point('a', int(5))), at(0)))).toBe('ok');
      expect(code(v.verify(snap(at(9), point('a', int(50)), point('zz', int(1))), at(9)))).toBe('unknown-metric');
      expect(code(v.verify(snap(at(1), point('a', int(6))), at(9)))).toBe('ok');
    });
    it('including histogram state', () => {
      const v = new Verifier(registration(DIST('d'), meta('a')));
      expect(code(v.verify(snap(at(0), histPoint('d', hist([0, 1, 0, 0]))), at(0)))).toBe('ok');
      expect(code(v.verify(snap(at(1), histPoint('d', hist([0, 9, 0, 0])), point('a', flt(1.5))), at(1)))).toBe(
        'not-integer',
      );
      expect(code(v.verify(snap(at(2), histPoint('d', hist([0, 2, 0, 0]))), at(2)))).toBe('ok');
    });
  });
});
