import { describe, expect, it } from 'vitest';
import type { ContainerEvent } from '../../src/events/encode.js';
import { CREATED_MEMORY_BYTES, EventSource } from '../../src/events/source.js';
import { CPU_TICK_NS, PAGE_BYTES } from '../../src/events/usage.js';
import { eventCapture } from '../support/captures.js';
import { shapeDiff } from '../support/shape.js';

const START = 1_795_819_500_123_456_789n;
const at = (s: number): bigint => START + BigInt(Math.round(s * 1000)) * 1_000_000n;
const single = (seed = 4): EventSource => new EventSource({ seed, startNs: START, containerIds: ['sb-0001'] });
const pod = (opts: { cgroupfs?: boolean } = {}): EventSource =>
  new EventSource({ seed: 4, startNs: START, containerIds: ['pod-a', 'pod-a-c2', 'pod-a-c3'], ...opts });
const reply = (src: EventSource, id: string, s: number): string => src.reply(id, at(s), true, null, 'x');
const cpuOf = (e: ContainerEvent): number => e.containerUsage?.[e.id] ?? e.cpuTotal;
// Interface values only: their order is drawn per call.
const byName = (e: ContainerEvent) => new Map((e.interfaces ?? []).map((i) => [i.Name, i]));

describe('EventSource: the honest answer', () => {
  it('has the captured structure: one container, a pod root and a pod subcontainer', () => {
    const skip = new Set(['$.result.containerUsage']);
    const cases: [string, string, EventSource, string][] = [
      ['event-idle.wire.json', 'sb-0001', single(), 'sb-0001'],
      ['event-pod-root.wire.json', 'pod-a', pod(), 'pod-a'],
      ['event-pod-sub.wire.json', 'pod-a-c2', pod(), 'pod-a-c2'],
      ['event-cgroupfs-pod-sub.wire.json', 'pod-a-c2', pod({ cgroupfs: true }), 'pod-a-c2'],
    ];
    for (const [capture, id, src] of cases) {
      const real = JSON.parse(eventCapture(capture));
      const fake = JSON.parse(reply(src, id, 30));
      expect(shapeDiff(real, fake, '$', skip), capture).toEqual([]);
      expect(fake.result.event.id).toBe(id);
    }
  });

  it('is reproducible from the seed, and differs between seeds', () => {
    const a = [reply(single(4), 'sb-0001', 10), reply(single(4), 'sb-0001', 10)];
    expect(a[0]).toBe(a[1]);
    expect(reply(single(5), 'sb-0001', 10)).not.toBe(a[0]);
    // Call by call too (interface order and all).
    const s1 = single(4);
    const s2 = single(4);
    for (let i = 0; i < 5; i++) expect(reply(s1, 'sb-0001', i)).toBe(reply(s2, 'sb-0001', i));
  });

  it('CPU grows in 10 ms ticks and never decreases; network counters grow; pids stay', () => {
    const src = pod();
    let prev: ContainerEvent | null = null;
    for (let s = 0; s <= 600; s += 7.3) {
      const e = src.next('pod-a-c2', at(s), true, null, 'x');
      expect(Object.keys(e.containerUsage ?? {})).toEqual(['pod-a', 'pod-a-c2', 'pod-a-c3']);
      for (const v of Object.values(e.containerUsage ?? {})) {
        expect(Number.isInteger(v / CPU_TICK_NS)).toBe(true);
        expect(v).toBeGreaterThan(0);
      }
      expect(e.pidsCurrent).toBeGreaterThanOrEqual(1);
      expect(e.pidsCurrent).toBeLessThanOrEqual(4);
      if (prev) {
        for (const [id, v] of Object.entries(e.containerUsage ?? {}))
          expect(v).toBeGreaterThanOrEqual(prev.containerUsage?.[id] ?? 0);
        expect(e.pidsCurrent).toBe(prev.pidsCurrent);
        const before = byName(prev);
        for (const [name, i] of byName(e)) {
          const b = before.get(name);
          for (const k of ['RxBytes', 'RxPackets', 'TxBytes', 'TxPackets'] as const)
            expect(i[k]).toBeGreaterThanOrEqual(b?.[k] ?? 0);
        }
      }
      prev = e;
    }
    const first = src.event('pod-a-c2', at(0), true);
    const last = src.event('pod-a-c2', at(600), true);
    expect(cpuOf(last)).toBeGreaterThan(cpuOf(first));
    expect(byName(last).get('eth0')?.RxBytes).toBeGreaterThan(byName(first).get('eth0')?.RxBytes ?? 0);
    expect(byName(last).get('eth0')?.TxPackets).toBeGreaterThan(0);
    // Loopback receives what it sends.
    expect(byName(last).get('lo')?.RxBytes).toBe(byName(last).get('lo')?.TxBytes);
  });

  it('memory moves up and down within its range, in whole pages', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const src = single(seed);
      const { min, max } = src.memoryBounds('sb-0001');
      expect(min).toBeGreaterThan(0);
      const seen: number[] = [];
      for (let s = 0; s <= 300; s += 2.5) seen.push(src.event('sb-0001', at(s), true).memoryUsage);
      for (const m of seen) {
        expect(m).toBeGreaterThanOrEqual(min);
        expect(m).toBeLessThanOrEqual(max);
        expect(m % PAGE_BYTES).toBe(0);
      }
      if (max - min >= 16 * PAGE_BYTES) {
        expect(seen.some((m, i) => i > 0 && m > (seen[i - 1] as number))).toBe(true);
        expect(seen.some((m, i) => i > 0 && m < (seen[i - 1] as number))).toBe(true);
      }
    }
  });

  it("a pod shares runsc's way: root memory 0 (key omitted), subcontainers an equal share", () => {
    const src = pod();
    const root = src.event('pod-a', at(42), true);
    const c2 = src.event('pod-a-c2', at(42), true);
    const c3 = src.event('pod-a-c3', at(42), true);
    expect(root.memoryUsage).toBe(0);
    expect(reply(src, 'pod-a', 42)).toContain('"memory":{"usage":{"limit":0,"failcnt":0}');
    expect(c2.memoryUsage).toBe(c3.memoryUsage);
    const { min, max } = src.memoryBounds('pod-a-c2');
    expect(c2.memoryUsage).toBeGreaterThanOrEqual(min);
    expect(c2.memoryUsage).toBeLessThanOrEqual(max);
    // The interface list and containerUsage are the sandbox's, whoever is asked.
    expect(root.containerUsage).toEqual(c2.containerUsage);
    expect(root.interfaces).toEqual(c2.interfaces);
  });

  it('with cgroupfs: own CPU in cpu.usage.total, own memory, containerUsage null', () => {
    const src = pod({ cgroupfs: true });
    const e = src.event('pod-a-c3', at(20), true);
    expect(e.containerUsage).toBeNull();
    expect(e.cpuTotal).toBe(src.model.cpuNs('pod-a-c3', 20));
    expect(e.memoryUsage).toBe(src.model.memoryBytes('pod-a-c3', 20));
    expect(src.event('pod-a', at(20), true).memoryUsage).toBeGreaterThan(0);
    expect(reply(src, 'pod-a-c3', 20)).toMatch(/"cpu":\{"usage":\{"total":\d+\}\}.*"containerUsage":null\}\}$/);
  });

  it("before start: runsc's created-only shape", () => {
    const bytes = single().reply('sb-0001', at(1), false, null, 'x');
    expect(bytes).toBe(eventCapture('event-created-not-started.wire.json').replace('"cr01"', '"sb-0001"'));
    expect(single().event('sb-0001', at(1), false).memoryUsage).toBe(CREATED_MEMORY_BYTES);
  });

  it('draws a new interface order on calls, as a Go map walk does', () => {
    const src = single();
    const orders = new Set<string>();
    for (let i = 0; i < 20; i++)
      orders.add((src.next('sb-0001', at(5), true, null, 'x').interfaces ?? []).map((x) => x.Name).join());
    expect(orders).toEqual(new Set(['lo,eth0', 'eth0,lo']));
  });
});

describe('EventSource: lies', () => {
  it('event-cpu-decrease: CPU goes down on every call, in whole ticks', () => {
    const src = pod();
    let prev = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 5; i++) {
      const e = src.next('pod-a-c2', at(i), true, 'event-cpu-decrease', 'x');
      expect(cpuOf(e)).toBeLessThan(prev);
      expect(cpuOf(e) % CPU_TICK_NS).toBe(0);
      prev = cpuOf(e);
    }
    const cg = pod({ cgroupfs: true });
    const a = cg.next('pod-a-c2', at(1), true, 'event-cpu-decrease', 'x').cpuTotal;
    expect(cg.next('pod-a-c2', at(100), true, 'event-cpu-decrease', 'x').cpuTotal).toBeLessThan(a);
  });

  it("event-foreign-id: the reply's event.id is the given other container", () => {
    const e = JSON.parse(pod().reply('pod-a-c2', at(3), true, 'event-foreign-id', 'pod-a-c3'));
    expect(e.result.event.id).toBe('pod-a-c3');
  });

  it('event-negative: negative counts on odd calls, fractions on even calls', () => {
    const src = single();
    const odd = JSON.parse(src.reply('sb-0001', at(3), true, 'event-negative', 'x')).result;
    expect(odd.event.data.pids.current).toBe(-1);
    expect(odd.containerUsage['sb-0001']).toBeLessThan(0);
    const evenText = src.reply('sb-0001', at(4), true, 'event-negative', 'x');
    const even = JSON.parse(evenText).result;
    expect(Number.isInteger(even.event.data.memory.usage.usage)).toBe(false);
    expect(even.event.data.network_interfaces.some((i: { RxBytes: number }) => !Number.isInteger(i.RxBytes))).toBe(
      true,
    );
    expect(evenText).toMatch(/"usage":\d+\.5,/);
  });
});
