import { describe, expect, it } from 'vitest';
import { Verifier, type VerifyResult } from '../../src/verifier/index.js';
import { DIST, at, hist, histPoint, int, meta, point, registration, snap } from './helpers.js';

function code(r: VerifyResult): string {
  return r.ok ? 'ok' : r.reason.code;
}

describe('Verifiers sharing one registration object (one rule table)', () => {
  it('keep their monotonicity state apart', () => {
    const reg = registration(meta('c'));
    const a = new Verifier(reg);
    const b = new Verifier(reg);
    expect(code(a.verify(snap(at(0), point('c', int(100))), at(0)))).toBe('ok');
    // b has never seen 100: a lower value is its first, not a decrease.
    expect(code(b.verify(snap(at(0), point('c', int(5))), at(0)))).toBe('ok');
    expect(code(b.verify(snap(at(1), point('c', int(6))), at(1)))).toBe('ok');
    expect(code(a.verify(snap(at(1), point('c', int(99))), at(1)))).toBe('counter-decreased');
  });

  it('keep duplicate-series detection per verify() call and per Verifier', () => {
    const reg = registration(meta('c', { fields: [{ fieldName: 'k', allowedValues: ['x', 'y'] }] }));
    const a = new Verifier(reg);
    const b = new Verifier(reg);
    const one = snap(at(0), point('c', int(1), { k: 'x' }));
    // Interleaved: b's call must not see a's keys as already seen, nor reset them.
    expect(code(a.verify(one, at(0)))).toBe('ok');
    expect(code(b.verify(one, at(0)))).toBe('ok');
    expect(code(a.verify(snap(at(1), point('c', int(1), { k: 'x' }), point('c', int(1), { k: 'x' })), at(1)))).toBe('duplicate-series');
    expect(code(b.verify(snap(at(1), point('c', int(2), { k: 'x' }), point('c', int(1), { k: 'y' })), at(1)))).toBe('ok');
  });

  it('keep histogram state apart', () => {
    const reg = registration(DIST('h'));
    const a = new Verifier(reg);
    const b = new Verifier(reg);
    expect(code(a.verify(snap(at(0), histPoint('h', hist([0, 0, 0, 5]))), at(0)))).toBe('ok');
    expect(code(b.verify(snap(at(0), histPoint('h', hist([0, 0, 0, 1]))), at(0)))).toBe('ok');
    expect(code(a.verify(snap(at(1), histPoint('h', hist([0, 0, 0, 4]))), at(1)))).toBe('histogram-bucket-decreased');
  });
});
