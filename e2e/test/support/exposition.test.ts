// The assertion helpers themselves: a reader that misread the text would make
// every suite built on it prove nothing.
import { describe, expect, it } from 'vitest';
import { findSamples, parseExposition, seriesKey } from '../../src/exposition.js';

describe('parseExposition', () => {
  it('reads names, escaped label values, exact values and timestamps', () => {
    const exp = parseExposition(
      [
        '# HELP a_total Help with "quotes".',
        '# TYPE a_total counter',
        'a_total{sandbox="s1",v="x\\\\y\\"z\\nw"} 9223372036854775807 1795825229600',
        'b 1.500000',
        'c{} +Inf',
        '',
      ].join('\n'),
    );
    expect(exp.types.get('a_total')).toBe('counter');
    expect(exp.samples).toEqual([
      {
        name: 'a_total',
        labels: { sandbox: 's1', v: 'x\\y"z\nw' },
        value: '9223372036854775807',
        timestampMs: 1795825229600,
      },
      { name: 'b', labels: {}, value: '1.500000' },
      { name: 'c', labels: {}, value: '+Inf' },
    ]);
    expect(findSamples(exp, 'a_total', { sandbox: 's1' })).toHaveLength(1);
    expect(findSamples(exp, 'a_total', { sandbox: 's2' })).toHaveLength(0);
  });

  it('throws on what it cannot read instead of guessing', () => {
    expect(() => parseExposition('a{x="1"')).toThrow(/unterminated|bad label/);
    expect(() => parseExposition('a{x="1",x="2"} 1')).toThrow(/duplicate label/);
    expect(() => parseExposition('a 1 2 3')).toThrow(/bad value/);
    expect(() => parseExposition('{x="1"} 1')).toThrow(/no metric name/);
  });

  it('keys series by name and sorted labels', () => {
    expect(seriesKey('m', { b: '2', a: '1' })).toBe(seriesKey('m', { a: '1', b: '2' }));
    expect(seriesKey('m', { a: '1' })).not.toBe(seriesKey('m', { a: '2' }));
  });
});
