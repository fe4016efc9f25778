import { describe, expect, it } from 'vitest';
import {
  capabilityFilterMatches,
  compileRe2Filter,
  FilterError,
  MAX_FILTER_PATTERN_LENGTH,
  re2FilterCacheSize,
} from '../../src/filter/index.js';

describe('compileRe2Filter', () => {
  it('accepts RE2 syntax JS RegExp rejects, and searches unanchored', () => {
    const f = compileRe2Filter('(?i)fs_');
    expect(f.test('runsc_FS_reads')).toBe(true);
    expect(f.test('net_reads')).toBe(false);
    expect(compileRe2Filter('^fs_').test('xfs_')).toBe(false);
    expect(compileRe2Filter('').test('anything')).toBe(true);
    expect(compileRe2Filter('\\pL+').test('é')).toBe(true);
  });

  it.each(['(?=x)', '(?<!a)b', '(a', 'a{2000}', '\\1', '[z-a]'])('rejects %j with a FilterError', (p) => {
    let err: unknown;
    try {
      compileRe2Filter(p);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FilterError);
    expect((err as FilterError).pattern).toBe(p);
    expect((err as Error).message).toMatch(/^invalid RE2 regular expression /);
  });

  it('explains the look-ahead refusal', () => {
    expect(() => compileRe2Filter('(?=x)')).toThrow(/invalid or unsupported Perl syntax/);
  });

  it('matches a pathological pattern in linear time', () => {
    const input = `${'a'.repeat(50_000)}b`;
    const start = performance.now();
    expect(compileRe2Filter('(a+)+$').test(input)).toBe(false);
    expect(compileRe2Filter('(x+x+)+y').test('x'.repeat(20_000))).toBe(false);
    // A backtracking engine takes longer than the age of the universe here.
    expect(performance.now() - start).toBeLessThan(5_000);
  });

  it('refuses absurdly long patterns', () => {
    expect(() => compileRe2Filter('a'.repeat(MAX_FILTER_PATTERN_LENGTH + 1))).toThrow(FilterError);
  });

  it('caches compiled filters in a bounded LRU', () => {
    const a = compileRe2Filter('cache_a');
    expect(compileRe2Filter('cache_a')).toBe(a);
    for (let i = 0; i < 200; i++) compileRe2Filter(`cache_fill_${i}`);
    expect(re2FilterCacheSize()).toBeLessThanOrEqual(64);
    expect(compileRe2Filter('cache_a')).not.toBe(a); // evicted, recompiled
    // A recently used entry survives fills smaller than the bound.
    const b = compileRe2Filter('cache_b');
    for (let i = 0; i < 10; i++) {
      compileRe2Filter(`cache_more_${i}`);
      expect(compileRe2Filter('cache_b')).toBe(b);
    }
  });
});

describe('capabilityFilterMatches', () => {
  it('matches the CAP_ form or the trimmed form', () => {
    expect(capabilityFilterMatches(compileRe2Filter('^CAP_NET'), 'NET_RAW')).toBe(true);
    expect(capabilityFilterMatches(compileRe2Filter('^NET_RAW$'), 'NET_RAW')).toBe(true);
    expect(capabilityFilterMatches(compileRe2Filter('^CAP_KILL$'), 'NET_RAW')).toBe(false);
    expect(capabilityFilterMatches(compileRe2Filter('^RAW'), 'NET_RAW')).toBe(false);
  });

  it("tests runsc's UNKNOWN as itself only: it has no CAP_ form", () => {
    expect(capabilityFilterMatches(compileRe2Filter('^UNKNOWN$'), 'UNKNOWN')).toBe(true);
    expect(capabilityFilterMatches(compileRe2Filter('NOWN'), 'UNKNOWN')).toBe(true);
    expect(capabilityFilterMatches(compileRe2Filter('^CAP_'), 'UNKNOWN')).toBe(false);
    expect(capabilityFilterMatches(compileRe2Filter('CAP_UNKNOWN'), 'UNKNOWN')).toBe(false);
    // A real name keeps its CAP_ form, whatever its spelling.
    expect(capabilityFilterMatches(compileRe2Filter('^CAP_'), 'PERFMON')).toBe(true);
  });
});
