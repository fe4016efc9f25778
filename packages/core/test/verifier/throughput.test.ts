// Scale check: a scrape verifies ~170 points for each of up to ~1000 sandboxes.
// The bound is generous (shared 2-core machine); it catches accidental
// quadratic work or per-point heavy allocation, not small regressions.

import type { Data } from '@org/metricserver-prom-format';
import { describe, expect, it } from 'vitest';
import { Verifier } from '../../src/verifier/index.js';
import { at, int, meta, point, registration, snap } from './helpers.js';

describe('Verifier throughput', () => {
  it('verifies 1000 snapshots of 170 points (one scrape of 1000 sandboxes) in well under 2 s', () => {
    const metas = Array.from({ length: 170 }, (_, i) =>
      meta(`m_${i}`, i % 10 === 0 ? { fields: [{ fieldName: 'f', allowedValues: ['a', 'b', 'c'] }] } : {}),
    );
    const verifiers = Array.from({ length: 1000 }, () => new Verifier(registration(...metas)));
    const points = (k: number): Data[] =>
      metas.map((m, i) => point(m.prometheusName, int(k + i), i % 10 === 0 ? { f: 'b' } : {}));
    const first = snap(at(0), ...points(1));
    const second = snap(at(1_000_000), ...points(2));
    for (const v of verifiers) expect(v.verify(first, at(1_000_000)).ok).toBe(true);
    const started = performance.now();
    for (const v of verifiers) {
      const r = v.verify(second, at(2_000_000));
      if (!r.ok) throw new Error(r.reason.message);
    }
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(2_000);
  });
});
