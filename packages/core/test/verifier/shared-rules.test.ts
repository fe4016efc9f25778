import { describe, expect, it } from 'vitest';
import { Verifier, type VerifyResult } from '../../src/verifier/index.js';
import { rulesFor } from '../../src/verifier/rules.js';
import { at, DIST, hist, histPoint, int, meta, point, registration, snap } from './helpers.js';

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
    expect(code(a.verify(snap(at(1), point('c', int(1), { k: 'x' }), point('c', int(1), { k: 'x' })), at(1)))).toBe(
      'duplicate-series',
    );
    expect(code(b.verify(snap(at(1), point('c', int(2), { k: 'x' }), point('c', int(1), { k: 'y' })), at(1)))).toBe(
      'ok',
    );
  });

  it('keep histogram state apart', () => {
    const reg = registration(DIST('h'));
    const a = new Verifier(reg);
    const b = new Verifier(reg);
    expect(code(a.verify(snap(at(0), histPoint('h', hist([0, 0, 0, 5]))), at(0)))).toBe('ok');
    expect(code(b.verify(snap(at(0), histPoint('h', hist([0, 0, 0, 1]))), at(0)))).toBe('ok');
    expect(code(a.verify(snap(at(1), histPoint('h', hist([0, 0, 0, 4]))), at(1)))).toBe('histogram-bucket-decreased');
  });

  // runsc lists the same metrics in another order per sandbox process: one table serves
  // every order (its rules are what each point consults), never two different sets.
  it('one table for registrations listing the same metrics in any order, another for different metrics', () => {
    const c = meta('shared_c');
    const k = meta('shared_k', { fields: [{ fieldName: 'k', allowedValues: ['x', 'y'] }] });
    const one = registration(c, k);
    const other = registration(k, c);
    expect(rulesFor(other)).toBe(rulesFor(one));
    expect(rulesFor(registration(c))).not.toBe(rulesFor(one));
    const values = registration(c, meta('shared_k', { fields: [{ fieldName: 'k', allowedValues: ['y', 'x'] }] }));
    expect(rulesFor(values)).not.toBe(rulesFor(one)); // allowed values are kept in their order
    // Verifiers of either order verify alike and keep their own state.
    const a = new Verifier(one);
    const b = new Verifier(other);
    expect(code(a.verify(snap(at(0), point('shared_c', int(10)), point('shared_k', int(1), { k: 'y' })), at(0)))).toBe(
      'ok',
    );
    expect(code(b.verify(snap(at(0), point('shared_k', int(1), { k: 'x' }), point('shared_c', int(3))), at(0)))).toBe(
      'ok',
    );
    expect(code(a.verify(snap(at(1), point('shared_c', int(9))), at(1)))).toBe('counter-decreased');
    expect(code(b.verify(snap(at(1), point('shared_c', int(4))), at(1)))).toBe('ok');
  });
});
