import { parseJson } from '@org/metricserver-prom-format';
import { describe, expect, it } from 'vitest';
import { containerCpuNs, needsHostCpu, populateStatsCpu } from '../../src/resources/cpu-share.js';
import { type ContainerEvent, decodeEventResult } from '../../src/resources/event-decode.js';
import type { HostCpuReading } from '../../src/resources/host-cgroup.js';
import { eventCapture } from '../support/event-captures.js';

const usage = (ns: number | bigint): HostCpuReading => ({ kind: 'usage', ns });
const NONE: HostCpuReading = { kind: 'none', reason: 'no /proc/1/cgroup' };
const ERROR: HostCpuReading = { kind: 'error', reason: 'EACCES' };
const POD = new Map([
  ['app01', 840000000],
  ['pod01', 30000000],
]);
const capture = (name: string): ContainerEvent =>
  decodeEventResult((parseJson(eventCapture(name)) as { result: unknown }).result);

describe('populateStatsCpu (runsc populateStats)', () => {
  it('no entries: 0, whatever the cgroup says', () => {
    expect(populateStatsCpu('a', new Map(), usage(5e9))).toBe(0);
    expect(populateStatsCpu('a', new Map(), NONE)).toBe(0);
  });

  it("no cgroup: the container's own entry (0 when it has none)", () => {
    expect(populateStatsCpu('app01', POD, NONE)).toBe(840000000);
    expect(populateStatsCpu('end01', POD, NONE)).toBe(0);
  });

  it("cgroup usage unreadable or 0: the container's own entry", () => {
    expect(populateStatsCpu('pod01', POD, ERROR)).toBe(30000000);
    expect(populateStatsCpu('pod01', POD, usage(0))).toBe(30000000);
    expect(populateStatsCpu('pod01', POD, usage(0n))).toBe(30000000);
  });

  it('all entries 0: the cgroup usage split evenly (integer division)', () => {
    const zeros = new Map([
      ['a', 0],
      ['b', 0],
      ['c', 0],
    ]);
    expect(populateStatsCpu('a', zeros, usage(10))).toBe(3);
    expect(populateStatsCpu('x', zeros, usage(10))).toBe(3); // an id not in the map gets a share too, as in runsc
    // (2^62+1)/3 = 1537228672809129301, then through float64 as runsc's product goes:
    expect(populateStatsCpu('a', zeros, usage(2n ** 62n + 1n))).toBe(1537228672809129216n);
  });

  it('else the entry scaled by cgroup / sum in float64, truncated', () => {
    expect(populateStatsCpu('app01', POD, usage(1214419067))).toBe(1172542547);
    expect(populateStatsCpu('pod01', POD, usage(1214419067))).toBe(41876519);
    expect(populateStatsCpu('end01', POD, usage(1214419067))).toBe(0); // exited: absent from the map
    // One container: the cgroup figure itself (the CLI's 5.17 s and 5.49 s around a raw 5.87 s).
    expect(populateStatsCpu('busy01', new Map([['busy01', 5870000000]]), usage(5450000000))).toBe(5450000000);
  });

  it('keeps large values exact, wraps the sum as uint64 and caps a result beyond 2^64-1', () => {
    const two = new Map([
      ['a', 1],
      ['b', 1],
    ]);
    expect(populateStatsCpu('a', two, usage(2n ** 60n))).toBe(2n ** 59n);
    const wrapping = new Map<string, number | bigint>([
      ['a', 2n ** 64n - 1n],
      ['b', 2],
    ]);
    expect(populateStatsCpu('b', wrapping, usage(1000))).toBe(2000); // Σ wrapped to 1
    expect(populateStatsCpu('a', wrapping, usage(1000))).toBe(2n ** 64n - 1n);
  });
});

describe('containerCpuNs', () => {
  it('the usual shape: the host cgroup shared out by containerUsage', () => {
    const sub = capture('event-pod-sub.wire.json');
    expect(containerCpuNs(sub, usage(1214419067))).toBe(1172542547);
    expect(containerCpuNs(capture('event-pod-root.wire.json'), usage(1214419067))).toBe(41876519);
    expect(containerCpuNs(sub, NONE)).toBe(840000000);
  });

  it('the cgroupfs shape: cpu.usage.total as is, the host cgroup unused', () => {
    expect(containerCpuNs(capture('event-cgroupfs.wire.json'), usage(5e9))).toBe(290000000);
    expect(containerCpuNs(capture('event-cgroupfs-pod-sub.wire.json'), NONE)).toBe(480000000);
  });

  it('created, not started (containerUsage {}): the reply total, absent = 0', () => {
    expect(containerCpuNs(capture('event-created-not-started.wire.json'), usage(5e9))).toBe(0);
  });

  it('needsHostCpu: only when some event has containerUsage entries', () => {
    expect(needsHostCpu([capture('event-cgroupfs.wire.json'), capture('event-created-not-started.wire.json')])).toBe(
      false,
    );
    expect(needsHostCpu([capture('event-cgroupfs.wire.json'), capture('event-idle.wire.json')])).toBe(true);
    expect(needsHostCpu([])).toBe(false);
  });
});
