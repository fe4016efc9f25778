import { describe, expect, it } from 'vitest';
import { parseCpuacctUsage, parseCpuStatUsage } from '../../src/resources/cpu-usage-file.js';

describe('parseCpuacctUsage (cgroup v1, ns)', () => {
  it('reads the kernel file', () => {
    expect(parseCpuacctUsage('5146896972\n')).toBe(5146896972);
    expect(parseCpuacctUsage('0\n')).toBe(0);
    expect(parseCpuacctUsage('18446744073709551615')).toBe(18446744073709551615n);
  });

  it.each(['', '\n', 'abc', '-5', '1.5', '12 34', '18446744073709551616'])('refuses %j', (text) => {
    expect(() => parseCpuacctUsage(text)).toThrow(/cpuacct.usage is not an unsigned integer/);
  });
});

const STAT = 'usage_usec 2301400\nuser_usec 1700000\nsystem_usec 601400\nnr_periods 0\n';

describe('parseCpuStatUsage (cgroup v2, usage_usec x 1000)', () => {
  it('reads usage_usec from a real-shaped cpu.stat', () => {
    expect(parseCpuStatUsage(STAT)).toBe(2301400000);
    expect(parseCpuStatUsage(`nr_throttled 0\n${STAT}`)).toBe(2301400000);
  });

  it('is 0 without a usage_usec line, and for an empty file', () => {
    expect(parseCpuStatUsage('user_usec 5\n')).toBe(0);
    expect(parseCpuStatUsage('')).toBe(0);
  });

  it('wraps the product at 2^64 as Go does, and keeps big values exact', () => {
    expect(parseCpuStatUsage('usage_usec 9007199254741\n')).toBe(9007199254741000n);
    expect(parseCpuStatUsage('usage_usec 18446744073709551615\n')).toBe(18446744073709550616n);
  });

  it('reads a negative value as 0 (runsc works around kernel bugs so)', () => {
    expect(parseCpuStatUsage('usage_usec -12\n')).toBe(0);
    expect(parseCpuStatUsage('usage_usec -99999999999999999999999\n')).toBe(0);
  });

  it.each([
    ['a malformed line before usage_usec', 'nr_periods\nusage_usec 5\n'],
    ['an empty line before it', 'user_usec 1\n\nusage_usec 5\n'],
    ['two spaces', 'usage_usec  5\n'],
    ['a tab', 'usage_usec\t5\n'],
    ['a plus sign', 'usage_usec +5\n'],
    ['minus zero', 'usage_usec -0\n'],
    ['a fraction', 'usage_usec 1.5\n'],
    ['a value above 2^64-1', 'usage_usec 18446744073709551616\n'],
  ])('refuses %s', (_what, text) => {
    expect(() => parseCpuStatUsage(text)).toThrow(/cpu.stat/);
  });

  it('does not look past usage_usec', () => {
    expect(parseCpuStatUsage('usage_usec 5\ngarbage\n')).toBe(5000);
  });
});
