import { decodeRegistration, parseJson } from '@org/metricserver-prom-format';
import { describe, expect, it } from 'vitest';
import { readCapture } from '../../../../test-support/captures.js';
import { RegistrationError, Verifier } from '../../src/verifier/index.js';
import { DIST, meta, registration, snap, T0 } from './helpers.js';

function realRegistration() {
  const wire = readCapture('registered-metrics.wire.json');
  const env = parseJson(wire) as { result: { RegisteredMetrics: unknown } };
  return decodeRegistration(env.result.RegisteredMetrics);
}

function rejection(...metrics: Parameters<typeof registration>): RegistrationError {
  try {
    new Verifier(registration(...metrics));
  } catch (e) {
    expect(e).toBeInstanceOf(RegistrationError);
    return e as RegistrationError;
  }
  throw new Error('registration was accepted');
}

describe('Verifier construction (prometheus.md §5.1)', () => {
  it('accepts the real 174-metric registration of runsc 20240729', () => {
    expect(new Verifier(realRegistration()).metricCount).toBe(174);
  });

  it('accepts an empty registration, which then verifies only empty snapshots', () => {
    const v = new Verifier(registration());
    expect(v.verify(snap(T0), T0)).toEqual({ ok: true });
  });

  it('refuses a missing registration with a typed error', () => {
    expect(() => new Verifier(null as never)).toThrow(RegistrationError);
  });

  it('refuses a name registered twice, before looking at the entry itself', () => {
    const e = rejection(meta('fs_reads'), meta('fs_reads', { name: '' }));
    expect(e.message).toBe('metric "fs_reads" registered twice');
    expect(e.metricName).toBe('fs_reads');
  });

  it('refuses entries without a name or Prometheus name', () => {
    expect(rejection(meta('x', { name: '' })).message).toBe('metric "x": metric has no name');
    expect(rejection(meta('')).message).toBe('metric "": metric has no name');
  });

  it('reserves the process metric names and the meta_ prefix, but not "metadata"', () => {
    expect(rejection(meta('process_start_time_seconds')).message).toMatch(
      /^metric "process_start_time_seconds": .*reserved/,
    );
    expect(rejection(meta('process_cpu_seconds_total')).message).toMatch(/reserved/);
    expect(rejection(meta('meta_sandbox_running')).message).toMatch(
      /^metric "meta_sandbox_running": .*reserved prefix/,
    );
    expect(() => new Verifier(registration(meta('metadata_x'), meta('process_other')))).not.toThrow();
  });

  it('checks the first byte as Go does: [a-z] for ASCII, the Latin-1 reading of the lead byte otherwise', () => {
    for (const bad of ['1abc', '_abc', 'Abc', 'éa']) {
      expect(rejection(meta(bad)).message).toBe(
        `metric ${JSON.stringify(bad)}: invalid initial character in prometheus metric name: ${JSON.stringify(bad)}`,
      );
    }
    expect(() => new Verifier(registration(meta('ａb')))).not.toThrow(); // lead byte 0xEF reads as ï (lowercase)
  });

  it('allows Unicode lowercase letters, decimal digits and _ in the rest of the name', () => {
    expect(() => new Verifier(registration(meta('café_count'), meta('x٣'), meta('a1_2')))).not.toThrow();
    expect(rejection(meta('fooBar')).message).toBe(
      'metric "fooBar": invalid character B in prometheus metric name "fooBar"',
    );
    expect(rejection(meta('a:b')).message).toMatch(/invalid character :/);
    expect(rejection(meta('a-b')).message).toMatch(/invalid character -/);
  });

  it('validates fields: no duplicates, at least one allowed value, no duplicate values ("" is legal)', () => {
    const f = (fieldName: string, allowedValues: string[]) => ({ fieldName, allowedValues });
    expect(rejection(meta('m', { fields: [f('a', ['1']), f('a', ['2'])] })).message).toBe(
      'metric "m": field a is defined twice',
    );
    expect(rejection(meta('m', { fields: [f('a', [])] })).message).toBe('metric "m": field a has no allowed values');
    expect(rejection(meta('m', { fields: [f('a', ['x', 'x'])] })).message).toBe(
      'metric "m": field a has duplicate allowed value "x"',
    );
    expect(() => new Verifier(registration(meta('m', { fields: [f('a', ['', 'x'])] })))).not.toThrow();
  });

  it('validates the type and the distribution bucket count (2..256 buckets)', () => {
    expect(rejection(meta('m', { type: 2 })).message).toBe('metric "m": invalid type: 2');
    expect(rejection(DIST('d', { distributionBucketLowerBounds: [] })).message).toBe(
      'metric "d": unsupported number of buckets: 1',
    );
    const bounds = (n: number) => Array.from({ length: n }, (_, i) => i);
    expect(() => new Verifier(registration(DIST('d', { distributionBucketLowerBounds: bounds(255) })))).not.toThrow();
    expect(rejection(DIST('d', { distributionBucketLowerBounds: bounds(256) })).message).toBe(
      'metric "d": unsupported number of buckets: 257',
    );
    expect(() => new Verifier(registration(DIST('d', { distributionBucketLowerBounds: [5, 1] })))).not.toThrow(); // order unchecked, as Go
  });

  it('stops at the first bad entry in registration order', () => {
    expect(rejection(meta('ok'), meta('Bad'), meta('')).metricName).toBe('Bad');
  });
});
