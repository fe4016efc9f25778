import { describe, expect, test } from 'vitest';
import {
  addNanos,
  compareTimestamps,
  formatGoTime,
  nowTimestamp,
  parseRfc3339,
  TimestampError,
  timestampFromDate,
  timestampMillis,
} from '../../src/index.js';

describe('parseRfc3339', () => {
  test('the capture format', () => {
    expect(parseRfc3339('2026-11-27T22:48:05.333741011Z')).toEqual({ seconds: 1795819685, nanos: 333741011 });
    expect(Date.parse('2026-11-27T22:48:05.333Z')).toBe(1795819685333);
  });

  test.each([
    ['2026-11-27T22:48:05Z', 0],
    ['2026-11-27T22:48:05.5Z', 500000000],
    ['2026-11-27T22:48:05.05Z', 50000000],
    ['2026-11-27T22:48:05.123Z', 123000000],
    ['2026-11-27T22:48:05.000000001Z', 1],
    ['2026-11-27T22:48:05.100000000Z', 100000000],
  ])('fraction %s', (text, nanos) => {
    expect(parseRfc3339(text)).toEqual({ seconds: 1795819685, nanos });
  });

  test('offsets convert to UTC', () => {
    expect(parseRfc3339('2026-11-28T00:48:05.25+02:00')).toEqual({ seconds: 1795819685, nanos: 250000000 });
    expect(parseRfc3339('2026-11-27T15:18:05-07:30')).toEqual({ seconds: 1795819685, nanos: 0 });
    expect(parseRfc3339('1970-01-01T00:00:00Z')).toEqual({ seconds: 0, nanos: 0 });
    expect(parseRfc3339('1969-12-31T23:59:59.5Z')).toEqual({ seconds: -1, nanos: 500000000 });
    expect(parseRfc3339('0001-01-01T00:00:00Z')).toEqual({ seconds: -62135596800, nanos: 0 });
    expect(parseRfc3339('2024-02-29T12:00:00Z').seconds).toBe(Date.parse('2024-02-29T12:00:00Z') / 1000);
    expect(parseRfc3339('2000-02-29T00:00:00Z').seconds).toBe(Date.parse('2000-02-29T00:00:00Z') / 1000);
  });

  test('agrees with Date.parse on many instants', () => {
    for (let ms = -5e12; ms < 5e12; ms += 7.77e10 + 123) {
      const iso = new Date(ms).toISOString();
      expect(timestampMillis(parseRfc3339(iso)), iso).toBe(ms);
    }
  });

  test.each([
    '',
    'yesterday',
    '2026-11-27',
    '2026-11-27T22:48:05',
    '2026-11-27 22:48:05Z',
    '2026-11-27t22:48:05Z',
    '2026-11-27T22:48:05z',
    '2026-11-27T22:48:05.Z',
    '2026-11-27T22:48:05.1234567890Z',
    '2026-11-27T22:48:05+0200',
    '2026-11-27T22:48:05+2:00',
    '2026-13-27T22:48:05Z',
    '2026-00-27T22:48:05Z',
    '2026-02-29T22:48:05Z',
    '1900-02-29T00:00:00Z',
    '2026-04-31T00:00:00Z',
    '2026-11-00T00:00:00Z',
    '2026-11-27T24:00:00Z',
    '2026-11-27T23:60:00Z',
    '2026-11-27T23:59:60Z',
    '2026-11-27T23:59:59+24:00',
    '2026-11-27T23:59:59+01:60',
    ' 2026-11-27T23:59:59Z',
    '2026-11-27T23:59:59Z ',
    '+2026-11-27T23:59:59Z',
    '２026-11-27T23:59:59Z',
  ])('rejects %j', (text) => {
    expect(() => parseRfc3339(text)).toThrow(TimestampError);
  });
});

describe('formatGoTime', () => {
  test.each([
    [{ seconds: 1716229722, nanos: 123456789 }, '2024-05-20 18:28:42.123456789 +0000 UTC'],
    [{ seconds: 1716229722, nanos: 0 }, '2024-05-20 18:28:42 +0000 UTC'],
    [{ seconds: 1716229722, nanos: 500000000 }, '2024-05-20 18:28:42.5 +0000 UTC'],
    [{ seconds: 1716229722, nanos: 120 }, '2024-05-20 18:28:42.00000012 +0000 UTC'],
    [{ seconds: 1795819502, nanos: 272446868 }, '2026-11-27 22:45:02.272446868 +0000 UTC'],
    [{ seconds: -1, nanos: 0 }, '1969-12-31 23:59:59 +0000 UTC'],
    [{ seconds: -62135596800, nanos: 0 }, '0001-01-01 00:00:00 +0000 UTC'],
    [{ seconds: 951782400, nanos: 1 }, '2000-02-29 00:00:00.000000001 +0000 UTC'],
  ])('%j -> %s', (ts, text) => {
    expect(formatGoTime(ts)).toBe(text);
  });

  test('calls alternating between seconds give each its own date (the last second is remembered)', () => {
    const a = { seconds: 1716229722, nanos: 5 };
    const b = { seconds: 1716229723, nanos: 0 };
    for (let i = 0; i < 3; i++) {
      expect(formatGoTime(a)).toBe('2024-05-20 18:28:42.000000005 +0000 UTC');
      expect(formatGoTime(b)).toBe('2024-05-20 18:28:43 +0000 UTC');
    }
  });

  test('round trip with the parser', () => {
    const ts = parseRfc3339('2031-07-04T01:02:03.4Z');
    expect(formatGoTime(ts)).toBe('2031-07-04 01:02:03.4 +0000 UTC');
  });
});

describe('helpers', () => {
  test('timestampMillis floors, also before 1970', () => {
    expect(timestampMillis({ seconds: 1716229722, nanos: 123999999 })).toBe(1716229722123);
    expect(timestampMillis({ seconds: -1, nanos: 500000000 })).toBe(-500);
    expect(timestampMillis({ seconds: -1, nanos: 999999 })).toBe(-1000);
    expect(timestampMillis({ seconds: -62135596800, nanos: 0 })).toBe(-62135596800000);
  });

  test('compareTimestamps has nanosecond precision', () => {
    expect(compareTimestamps({ seconds: 1, nanos: 1 }, { seconds: 1, nanos: 2 })).toBe(-1);
    expect(compareTimestamps({ seconds: 2, nanos: 0 }, { seconds: 1, nanos: 999999999 })).toBe(1);
    expect(compareTimestamps({ seconds: 1, nanos: 5 }, { seconds: 1, nanos: 5 })).toBe(0);
  });

  test('timestampFromDate', () => {
    expect(timestampFromDate(new Date(1716229722123))).toEqual({ seconds: 1716229722, nanos: 123000000 });
    expect(timestampFromDate(new Date(-1500))).toEqual({ seconds: -2, nanos: 500000000 });
    expect(() => timestampFromDate(new Date(NaN))).toThrow(TimestampError);
  });

  test('addNanos carries both ways', () => {
    expect(addNanos({ seconds: 1, nanos: 999999999 }, 2)).toEqual({ seconds: 2, nanos: 1 });
    expect(addNanos({ seconds: 1, nanos: 0 }, -1)).toEqual({ seconds: 0, nanos: 999999999 });
    expect(addNanos({ seconds: 10, nanos: 5 }, -10e9)).toEqual({ seconds: 0, nanos: 5 });
  });

  test('nowTimestamp reads the wall clock fresh', () => {
    const before = Date.now();
    const a = nowTimestamp();
    const b = nowTimestamp();
    const after = Date.now();
    expect(Number.isInteger(a.seconds) && Number.isInteger(a.nanos)).toBe(true);
    expect(a.nanos).toBeGreaterThanOrEqual(0);
    expect(a.nanos).toBeLessThan(1e9);
    expect(Math.abs(timestampMillis(a) - before)).toBeLessThan(2000);
    expect(timestampMillis(b)).toBeLessThanOrEqual(after + 2000);
    expect(compareTimestamps(a, b)).toBeLessThanOrEqual(0);
  });
});
