// The verifier keeps a compact memo of the last accepted values (not the decoded
// snapshot) and shares its per-call scratch between sandboxes: the rules must read
// the latest accepted values, and sandboxes must never see each other's series.
import { describe, expect, it } from 'vitest';
import { Verifier, type VerifyResult } from '../../src/verifier/index.js';
import { at, DIST, flt, hist, histPoint, int, meta, point, registration, snap } from './helpers.js';

const code = (r: VerifyResult): string => (r.ok ? 'ok' : r.reason.code);
const FIELDED = meta('f', { fields: [{ fieldName: 'op', allowedValues: ['read', 'write'] }] });

describe('memo of the last accepted snapshot', () => {
  it('a histogram memo updated in place follows the latest accepted snapshot, not the first', () => {
    const v = new Verifier(registration(DIST('d')));
    expect(code(v.verify(snap(at(0), histPoint('d', hist([1, 0, 0, 0]))), at(0)))).toBe('ok');
    expect(code(v.verify(snap(at(1), histPoint('d', hist([1, 5, 0, 0]))), at(1)))).toBe('ok');
    // Above the first snapshot, below the second: only a memo of the second catches it.
    expect(code(v.verify(snap(at(2), histPoint('d', hist([1, 4, 0, 0]))), at(2)))).toBe('histogram-bucket-decreased');
    // The rejection changed nothing: the second is still the reference.
    expect(code(v.verify(snap(at(3), histPoint('d', hist([1, 5, 1, 0]))), at(3)))).toBe('ok');
  });

  it('histogram min/max/ssd rules read the memo once two samples were seen', () => {
    const v = new Verifier(registration(DIST('d')));
    const h = (samples: number[], min: number, max: number, ssd: number) =>
      hist(samples, { min: int(min), max: int(max), ssd: flt(ssd) });
    expect(code(v.verify(snap(at(0), histPoint('d', h([0, 2, 0, 0], 1, 1, 0.5))), at(0)))).toBe('ok');
    expect(code(v.verify(snap(at(1), histPoint('d', h([0, 3, 0, 0], 1, 1, 0.25))), at(1)))).toBe(
      'histogram-ssd-decreased',
    );
    expect(code(v.verify(snap(at(1), histPoint('d', h([0, 3, 0, 0], 2, 1, 0.5))), at(1)))).toBe(
      'histogram-min-increased',
    );
    expect(code(v.verify(snap(at(1), histPoint('d', h([0, 3, 0, 0], 1, 0, 0.5))), at(1)))).toBe(
      'histogram-max-decreased',
    );
    expect(code(v.verify(snap(at(1), histPoint('d', h([0, 3, 0, 0], 1, 1, 0.75))), at(1)))).toBe('ok');
  });

  it('counters with fields are remembered per series across several snapshots', () => {
    const v = new Verifier(registration(FIELDED));
    expect(
      code(v.verify(snap(at(0), point('f', int(5), { op: 'read' }), point('f', int(1), { op: 'write' })), at(0))),
    ).toBe('ok');
    expect(code(v.verify(snap(at(1), point('f', int(7), { op: 'read' })), at(1)))).toBe('ok');
    // `write` kept its memo from two snapshots ago, `read` moved to 7.
    expect(code(v.verify(snap(at(2), point('f', int(0), { op: 'write' })), at(2)))).toBe('counter-decreased');
    expect(code(v.verify(snap(at(2), point('f', int(6), { op: 'read' })), at(2)))).toBe('counter-decreased');
    expect(
      code(v.verify(snap(at(2), point('f', int(7), { op: 'read' }), point('f', int(1), { op: 'write' })), at(2))),
    ).toBe('ok');
  });

  it('a counter beyond 2^53 or float-typed is kept exactly (the wire number, not a JS number)', () => {
    const v = new Verifier(registration(meta('c')));
    const big = 2n ** 60n;
    expect(code(v.verify(snap(at(0), point('c', int(big + 1n))), at(0)))).toBe('ok');
    expect(code(v.verify(snap(at(1), point('c', int(big))), at(1)))).toBe('counter-decreased');
    const f = new Verifier(registration(meta('c')));
    expect(code(f.verify(snap(at(0), point('c', flt(3))), at(0)))).toBe('ok');
    const r = f.verify(snap(at(1), point('c', int(3))), at(1));
    expect(code(r)).toBe('counter-type-changed');
    expect(r.ok ? '' : r.reason.message).toContain('3.0 vs 3');
  });

  it('an int-typed memo still reports a switch to a float with its exact text', () => {
    const v = new Verifier(registration(meta('c')));
    expect(code(v.verify(snap(at(0), point('c', int(4))), at(0)))).toBe('ok');
    const r = v.verify(snap(at(1), point('c', flt(5))), at(1));
    expect(code(r)).toBe('counter-type-changed');
    expect(r.ok ? '' : r.reason.message).toContain('4 vs 5.0');
  });
});

describe('scratch shared between sandboxes of one registration', () => {
  it('the same series in two sandboxes, verified alternately, is never a duplicate, and memos stay apart', () => {
    const reg = registration(FIELDED, meta('c'));
    const a = new Verifier(reg);
    const b = new Verifier(reg);
    for (let i = 0; i < 3; i++) {
      expect(
        code(a.verify(snap(at(i), point('f', int(10 + i), { op: 'read' }), point('c', int(100 + i))), at(i))),
      ).toBe('ok');
      expect(code(b.verify(snap(at(i), point('f', int(i), { op: 'read' }), point('c', int(i))), at(i)))).toBe('ok');
    }
    // b's counters are far below a's: had they shared memos, b would be rejected above.
    expect(code(b.verify(snap(at(3), point('c', int(1))), at(3)))).toBe('counter-decreased');
  });

  it('a duplicate within one snapshot is still caught right after another sandbox used the rule', () => {
    const reg = registration(FIELDED);
    const a = new Verifier(reg);
    const b = new Verifier(reg);
    expect(code(a.verify(snap(at(0), point('f', int(1), { op: 'read' })), at(0)))).toBe('ok');
    expect(
      code(b.verify(snap(at(0), point('f', int(1), { op: 'read' }), point('f', int(2), { op: 'read' })), at(0))),
    ).toBe('duplicate-series');
  });
});
