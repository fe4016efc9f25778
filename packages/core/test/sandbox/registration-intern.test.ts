import type { MetricRegistration } from '@org/metricserver-prom-format';
import { describe, expect, it } from 'vitest';
import { internRegistration, MAX_INTERNED_REGISTRATIONS } from '../../src/sandbox/registration-intern.js';

const reg = (name: string, bound: number | bigint = 0): MetricRegistration => ({
  metrics: [
    {
      name: `/${name}`,
      prometheusName: name,
      description: 'd',
      cumulative: false,
      sync: false,
      type: 1,
      units: 0,
      fields: [],
      distributionBucketLowerBounds: [bound],
    },
  ],
  stages: [],
});

describe('internRegistration', () => {
  it('returns one shared object for equal registrations and keeps different ones apart', () => {
    const a = internRegistration(reg('intern_a'));
    expect(internRegistration(reg('intern_a'))).toBe(a);
    expect(internRegistration(reg('intern_b'))).not.toBe(a);
  });

  it('shares one object for the same metrics in another order, as runsc lists them per sandbox', () => {
    const two = (order: string[], help = 'd'): MetricRegistration => ({
      metrics: order.map((n) => ({ ...reg(n).metrics[0]!, description: `${help} ${n}` })),
      stages: ['s1', 's2'],
    });
    const first = internRegistration(two(['intern_x', 'intern_y', 'intern_z']));
    expect(internRegistration(two(['intern_z', 'intern_x', 'intern_y']))).toBe(first);
    expect(internRegistration(two(['intern_z', 'intern_x', 'intern_y'], 'other'))).not.toBe(first);
    expect(internRegistration(two(['intern_x', 'intern_y']))).not.toBe(first);
    expect(internRegistration({ ...two(['intern_x', 'intern_y', 'intern_z']), stages: ['s2', 's1'] })).not.toBe(first);
    // The same count with a metric twice is not the same set.
    const twice = two(['intern_x', 'intern_x', 'intern_y']);
    expect(internRegistration(twice)).toBe(twice);
    expect(internRegistration(two(['intern_x', 'intern_x', 'intern_y']))).not.toBe(twice);
  });

  it('keeps the content of what it interns (its strings are shared, the values are the same)', () => {
    const given = reg('intern_content');
    const withField: MetricRegistration = {
      ...given,
      metrics: [
        ...given.metrics,
        {
          ...given.metrics[0]!,
          name: '/f',
          prometheusName: 'f',
          fields: [{ fieldName: 'op', allowedValues: ['read', 'write'] }],
        },
      ],
    };
    const expected = structuredClone(withField);
    expect(internRegistration(withField)).toStrictEqual(expected);
  });

  it('tells a bigint bound from a nearby number and from another bigint', () => {
    const big = internRegistration(reg('intern_big', 2n ** 60n));
    expect(internRegistration(reg('intern_big', 2n ** 60n))).toBe(big);
    expect(internRegistration(reg('intern_big', 2n ** 60n + 1n))).not.toBe(big);
    expect(internRegistration(reg('intern_big', 7))).not.toBe(big);
  });

  it('stops interning new registrations once the table is full (bounded memory)', () => {
    for (let i = 0; i < MAX_INTERNED_REGISTRATIONS + 2; i++) internRegistration(reg(`intern_fill_${i}`));
    const late = reg('intern_late');
    expect(internRegistration(late)).toBe(late);
    expect(internRegistration(reg('intern_late'))).not.toBe(late);
    // Already interned ones still hit.
    const a = internRegistration(reg('intern_a'));
    expect(internRegistration(reg('intern_a'))).toBe(a);
  });
});
