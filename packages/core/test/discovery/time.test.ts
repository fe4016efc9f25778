import { describe, expect, it } from 'vitest';
import { goUtcString, parseRfc3339Local } from '../../src/discovery/index.js';

describe('parseRfc3339Local', () => {
  it('keeps nanoseconds and converts offsets to UTC', () => {
    expect(parseRfc3339Local('2026-11-27T22:45:02.272446868Z')).toEqual({ seconds: 1795819502, nanos: 272446868 });
    expect(parseRfc3339Local('2026-11-27T14:47:22.754125291-08:00')).toEqual(parseRfc3339Local('2026-11-27T22:47:22.754125291Z'));
    expect(parseRfc3339Local('2024-05-20T18:00:00.5+02:00')).toEqual({ seconds: Date.UTC(2024, 4, 20, 16) / 1000, nanos: 500000000 });
    expect(parseRfc3339Local('1970-01-01T00:00:00Z')).toEqual({ seconds: 0, nanos: 0 });
    expect(parseRfc3339Local('1969-12-31T23:59:59.999999999Z')).toEqual({ seconds: -1, nanos: 999999999 });
    expect(parseRfc3339Local('2000-02-29T00:00:00.1234567891Z')?.nanos).toBe(123456789);
  });

  it.each(['', '2026-11-27', '2026-13-01T00:00:00Z', '2026-02-30T00:00:00Z', '2026-11-27T24:00:00Z', '2026-11-27T22:45:02', '2026-11-27T22:45:60Z', '2026-11-27T22:45:02.Z'])(
    'rejects %j',
    (t) => expect(parseRfc3339Local(t)).toBeUndefined(),
  );
});

describe('goUtcString', () => {
  it('renders like Go time.String() in UTC', () => {
    expect(goUtcString({ seconds: 1795819502, nanos: 272446868 })).toBe('2026-11-27 22:45:02.272446868 +0000 UTC');
    expect(goUtcString({ seconds: Date.UTC(2024, 4, 20, 18) / 1000, nanos: 500000000 })).toBe('2024-05-20 18:00:00.5 +0000 UTC');
    expect(goUtcString({ seconds: 0, nanos: 0 })).toBe('1970-01-01 00:00:00 +0000 UTC');
    expect(goUtcString({ seconds: -1, nanos: 10 })).toBe('1969-12-31 23:59:59.00000001 +0000 UTC');
  });

  it('round-trips with Date for many instants', () => {
    for (let s = -2_000_000_000; s < 4_000_000_000; s += 86_399_937) {
      const iso = new Date(s * 1000).toISOString(); // 2006-01-02T15:04:05.000Z
      expect(goUtcString({ seconds: s, nanos: 0 })).toBe(`${iso.slice(0, 10)} ${iso.slice(11, 19)} +0000 UTC`);
      expect(parseRfc3339Local(iso)).toEqual({ seconds: s, nanos: 0 });
    }
  });
});
