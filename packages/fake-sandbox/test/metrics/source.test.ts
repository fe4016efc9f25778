import { describe, expect, it } from 'vitest';
import { compileFilter } from '../../src/metrics/filter.js';
import { registrationFor } from '../../src/metrics/registration.js';
import { MetricSource } from '../../src/metrics/source.js';
import { formatRfc3339Nano } from '../../src/wire/clock.js';

const START = 1_795_819_500_123_456_789n;
const SEC = 1_000_000_000n;
type Entry = { metric: { name: string; type: number }; labels?: Record<string, string>; val: { int?: number } };
const data = (reply: string): Entry[] => JSON.parse(reply).result.snapshot.data ?? [];
const key = (d: Entry): string => `${d.metric.name}${JSON.stringify(d.labels ?? {})}`;

describe('MetricSource', () => {
  it('is reproducible for a fixed seed and differs between seeds', () => {
    const reg = registrationFor(5, false).value;
    const a = new MetricSource(reg, 5, START).exportReply(null, START + 10n * SEC, null, 'o');
    const b = new MetricSource(reg, 5, START).exportReply(null, START + 10n * SEC, null, 'o');
    const c = new MetricSource(reg, 6, START).exportReply(null, START + 10n * SEC, null, 'o');
    expect(a).toBe(b);
    expect(a).not.toBe(c);
  });

  it('counters never decrease, some grow, zero counters are omitted, gauges stay', () => {
    const src = new MetricSource(registrationFor(9, false).value, 9, START);
    let prev = new Map<string, number>();
    let grew = false;
    for (let t = 0n; t <= 120n; t += 10n) {
      const entries = data(src.exportReply(null, START + t * SEC, null, 'o'));
      const names = entries.map((d) => d.metric.name);
      expect(names).toContain('netstack_tcp_current_open');
      expect(names).toContain('netstack_tcp_current_established');
      const now = new Map(entries.map((d) => [key(d), d.val.int ?? 0]));
      for (const d of entries) if (d.metric.type === 2) expect(d.val.int).toBeGreaterThan(0);
      for (const [k, v] of prev) {
        expect(now.has(k), k).toBe(true); // a counter that appeared never disappears
        expect(now.get(k) as number).toBeGreaterThanOrEqual(v);
        if ((now.get(k) as number) > v) grew = true;
      }
      prev = now;
    }
    expect(grew).toBe(true);
  });

  it('sample counts spread over a realistic range across seeds', () => {
    const counts = Array.from(
      { length: 40 },
      (_, s) =>
        data(
          new MetricSource(registrationFor(s, false).value, s, START).exportReply(null, START + 60n * SEC, null, 'o'),
        ).length,
    );
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(30);
    expect(Math.max(...counts)).toBeLessThanOrEqual(185);
    expect(Math.max(...counts) - Math.min(...counts)).toBeGreaterThan(50);
  });

  it("draws a new entry order on every export, reproducible from the seed, a metric's entries together", () => {
    const reg = registrationFor(7, false).value;
    const orders = (src: MetricSource): string[] =>
      Array.from({ length: 5 }, (_, i) =>
        data(src.exportReply(null, START + BigInt(60 + i) * SEC, null, 'o'))
          .map(key)
          .join(' '),
      );
    const a = orders(new MetricSource(reg, 7, START));
    expect(new Set(a).size).toBe(5);
    expect(orders(new MetricSource(reg, 7, START))).toEqual(a);
    const src = new MetricSource(reg, 7, START);
    const all = src.entryOrder(0).length;
    for (let n = 1; n <= 20; n++) {
      expect(new Set(src.entryOrder(n)).size).toBe(all); // a permutation of every series
      const byName = data(src.exportReply(null, START + 60n * SEC, null, 'o')).map((d) => d.metric.name);
      const runs = byName.filter((nm, i) => i === 0 || byName[i - 1] !== nm);
      expect(new Set(runs).size).toBe(runs.length);
    }
  });

  it('takes the snapshot time from the export call', () => {
    const src = new MetricSource(registrationFor(1, false).value, 1, START);
    const when = JSON.parse(src.exportReply(null, START + 3n * SEC, null, 'o')).result.snapshot.when;
    expect(when).toBe(formatRfc3339Nano(START + 3n * SEC));
  });

  it('filters with RE2 (unanchored) from a per-pattern mask', () => {
    const src = new MetricSource(registrationFor(2, false).value, 2, START);
    const f = compileFilter('current_');
    expect(f.ok).toBe(true);
    if (!f.ok) return;
    const names = data(src.exportReply(f.re, START, null, 'o'))
      .map((d) => d.metric.name)
      .sort();
    expect(names).toEqual(['netstack_tcp_current_established', 'netstack_tcp_current_open']);
  });
});

describe('formatRfc3339Nano', () => {
  it('trims trailing zeros like Go and renders offsets', () => {
    expect(formatRfc3339Nano(1_795_819_502_272_446_868n)).toBe('2026-11-27T22:45:02.272446868Z');
    expect(formatRfc3339Nano(1_795_819_502_366_895_790n)).toBe('2026-11-27T22:45:02.36689579Z');
    expect(formatRfc3339Nano(1_795_819_502_000_000_000n)).toBe('2026-11-27T22:45:02Z');
    expect(formatRfc3339Nano(1_795_819_642_754_125_291n, -480)).toBe('2026-11-27T14:47:22.754125291-08:00');
  });
});
