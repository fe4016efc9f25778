import { parseJson } from '@org/metricserver-prom-format';
import { describe, expect, it } from 'vitest';
import { containerCpuNs } from '../../src/resources/cpu-share.js';
import { type ContainerEvent, decodeEventResult } from '../../src/resources/event-decode.js';
import type { HostCpuReading } from '../../src/resources/host-cgroup.js';
import { ResourceRejection } from '../../src/resources/rejection.js';
import { type ResourceScrape, ResourceVerifier } from '../../src/resources/verifier.js';
import { eventCapture, eventSeries } from '../support/event-captures.js';

const decode = (reply: string): ContainerEvent => decodeEventResult((parseJson(reply) as { result: unknown }).result);
const capture = (name: string): ContainerEvent => decode(eventCapture(name));
const NONE: HostCpuReading = { kind: 'none', reason: 'test' };

const T0 = '2026-12-03T10:00:00.000000001Z';
const c = (id: string, createdAt = T0) => ({ id, createdAt });

/** A scrape of `events`, asked for exactly their ids; CPU as runsc derives it without a cgroup. */
function scrape(events: ContainerEvent[], over: Partial<ResourceScrape> = {}): ResourceScrape {
  return {
    iteration: 'it1',
    containers: events.map((e) => c(e.id)),
    events,
    cpuNs: events.map((e) => containerCpuNs(e, NONE)),
    ...over,
  };
}

function rejected(v: ResourceVerifier, s: ResourceScrape): ResourceRejection {
  const r = v.verify(s);
  if (r.ok) throw new Error('accepted');
  expect(r.reason).toBeInstanceOf(ResourceRejection);
  return r.reason;
}

const POD = ['event-pod-root.wire.json', 'event-pod-sub.wire.json', 'event-pod-sub-exited.wire.json'].map(capture);

describe('ResourceVerifier: which containers answered', () => {
  it('accepts a real pod: root, a subcontainer and an exited one, in any order', () => {
    const v = new ResourceVerifier();
    const r = v.verify(scrape(POD, { containers: [c('end01'), c('pod01'), c('app01')] }));
    expect(r).toEqual({ ok: true, cpuNs: [30000000, 840000000, 0] });
    expect(v.containerCount).toBe(3);
  });

  it('refuses an event about a container not asked, naming it and those asked', () => {
    const reason = rejected(new ResourceVerifier(), scrape(POD, { containers: [c('pod01'), c('app01'), c('x')] }));
    expect(reason.code).toBe('foreign-id');
    expect(reason.containerId).toBe('end01');
    expect(reason.toString()).toBe(
      'resource usage rejected (foreign-id): the sandbox answered for container "end01", which is not one of ' +
        'the containers asked ("pod01", "app01", "x")',
    );
  });

  it('refuses two events about one container and an asked container without one', () => {
    const [root, sub] = POD as [ContainerEvent, ContainerEvent];
    const twice = rejected(new ResourceVerifier(), scrape([root, sub, sub], { containers: [c('pod01'), c('app01')] }));
    expect([twice.code, twice.message]).toEqual(['duplicate-id', 'the sandbox answered twice for container "app01"']);
    const missing = rejected(new ResourceVerifier(), scrape([root], { containers: [c('pod01'), c('app01')] }));
    expect([missing.code, missing.message]).toEqual(['missing-container', 'no event for container "app01"']);
  });

  it("throws for the caller's own mistakes", () => {
    const [root] = POD as [ContainerEvent];
    const v = new ResourceVerifier();
    expect(() => v.verify(scrape([root], { cpuNs: [] }))).toThrow(RangeError);
    expect(() => v.verify(scrape([root], { containers: [c('pod01'), c('pod01')] }))).toThrow(/listed twice/);
  });
});

describe('ResourceVerifier: values', () => {
  const idle = capture('event-idle.wire.json');
  const lo = idle.interfaces[0]!;
  const cases: [string, string, Partial<Record<keyof ContainerEvent, unknown>>][] = [
    ['negative', 'pids.current is negative (-1)', { pidsCurrent: -1 }],
    ['not-integer', 'memory.usage.usage is not an integer (2031616.5)', { memoryUsageBytes: 2031616.5 }],
    ['out-of-range', 'cpu.usage.total is out of range (18446744073709551616)', { cpuTotalNs: 2n ** 64n }],
    ['out-of-range', 'memory.usage.limit is out of range (1152921504606847000)', { memoryLimitBytes: 2 ** 60 }],
    ['not-integer', 'pids.limit is not an integer ("5")', { pidsLimit: '5' }],
    [
      'negative',
      'containerUsage["idle01"] is negative (-10000000)',
      { containerUsage: new Map([['idle01', -10000000]]) },
    ],
    [
      'not-integer',
      'network interface "lo" RxBytes is not an integer (0.25)',
      { interfaces: [{ ...lo, rxBytes: 0.25 }] },
    ],
    ['duplicate-interface', 'network interface "lo" is listed twice', { interfaces: [lo, lo] }],
  ];
  it.each(cases)('%s: %s', (code, message, change) => {
    const v = new ResourceVerifier();
    const bad = { ...idle, ...change } as ContainerEvent;
    const reason = rejected(v, scrape([bad], { cpuNs: [0] }));
    expect([reason.code, reason.message, reason.containerId]).toEqual([
      code,
      `container "idle01": ${message}`,
      'idle01',
    ]);
    expect(v.containerCount).toBe(0); // nothing was remembered
  });

  it('accepts values beyond 2^53 kept as bigint', () => {
    const big = { ...idle, cpuTotalNs: 2n ** 63n, containerUsage: new Map([['idle01', 2n ** 64n - 1n]]) };
    expect(new ResourceVerifier().verify(scrape([big], { cpuNs: [2n ** 63n] })).ok).toBe(true);
  });
});

describe('ResourceVerifier: counters over scrapes', () => {
  it('accepts the real busy, memory and network series (memory goes both ways; interfaces reshuffled)', () => {
    for (const name of ['event-busy-series.txt', 'event-memory-series.txt', 'event-network-series.txt']) {
      const v = new ResourceVerifier();
      for (const { reply } of eventSeries(name)) expect(v.verify(scrape([decode(reply)])).ok, name).toBe(true);
    }
  });

  it('accepts containerUsage falling after a runsc exec process exits, and serves a CPU that does not fall', () => {
    const v = new ResourceVerifier();
    const served: unknown[] = [];
    const raw: unknown[] = [];
    for (const { reply } of eventSeries('event-exec01-series.txt')) {
      const s = scrape([decode(reply)]);
      raw.push(s.cpuNs[0]);
      const r = v.verify(s);
      if (!r.ok) throw new Error(r.reason.toString());
      served.push(r.cpuNs[0]);
    }
    expect(raw).toEqual([30e6, 1060e6, 2200e6, 3220e6, 4360e6, 30e6, 30e6, 30e6, 30e6]);
    expect(served).toEqual([30e6, 1060e6, 2200e6, 3220e6, 4360e6, 4360e6, 4360e6, 4360e6, 4360e6]);
  });

  it('the cgroupfs shape keeps the CPU of the exec: cpu.usage.total is checked and passes', () => {
    const v = new ResourceVerifier();
    const totals = eventSeries('event-exg01-series.txt').map(({ reply }) => {
      const r = v.verify(scrape([decode(reply)]));
      if (!r.ok) throw new Error(r.reason.toString());
      return r.cpuNs[0];
    });
    expect(totals[0]).toBe(30e6);
    expect(totals.at(-1)).toBe(4760e6);
  });

  it('refuses cpu.usage.total going down, and the refusal changes nothing', () => {
    const v = new ResourceVerifier();
    const cg = capture('event-cgroupfs.wire.json'); // total 290000000
    expect(v.verify(scrape([cg])).ok).toBe(true);
    const lower = { ...cg, cpuTotalNs: 280000000 };
    const reason = rejected(v, scrape([lower]));
    expect([reason.code, reason.message]).toEqual([
      'counter-decreased',
      'container "cg01": cpu.usage.total went down from 290000000 to 280000000 ns',
    ]);
    expect(rejected(v, scrape([{ ...cg, cpuTotalNs: 289999999 }])).code).toBe('counter-decreased');
    expect(v.verify(scrape([{ ...cg, cpuTotalNs: 290000000 }])).ok).toBe(true);
  });

  it('refuses any of the eight interface counters going down', () => {
    const net = capture('event-network.wire.json');
    for (const [field, wire] of [
      ['rxBytes', 'RxBytes'],
      ['txPackets', 'TxPackets'],
    ] as const) {
      const v = new ResourceVerifier();
      expect(v.verify(scrape([net])).ok).toBe(true);
      const eth0 = net.interfaces[0]!;
      const fewer = { ...net, interfaces: [{ ...eth0, [field]: (eth0[field] as number) - 1 }, net.interfaces[1]!] };
      const reason = rejected(v, scrape([fewer]));
      expect(reason.code).toBe('counter-decreased');
      expect(reason.message).toBe(
        `container "net01": network interface "eth0" ${wire} went down from ${eth0[field]} to ` +
          `${(eth0[field] as number) - 1}`,
      );
    }
  });

  it('starts afresh for a new sandbox iteration and for a container re-created under its id', () => {
    const cg = capture('event-cgroupfs.wire.json');
    const lower = { ...cg, cpuTotalNs: 10000000 };
    const v = new ResourceVerifier();
    expect(v.verify(scrape([cg])).ok).toBe(true);
    expect(v.verify(scrape([lower], { iteration: 'it2' }))).toEqual({ ok: true, cpuNs: [10000000] });
    expect(v.verify(scrape([cg], { iteration: 'it2' })).ok).toBe(true);
    const recreated = v.verify(scrape([lower], { iteration: 'it2', containers: [c('cg01', 'later')] }));
    expect(recreated).toEqual({ ok: true, cpuNs: [10000000] });
  });

  it('forgets a container that is gone, and interfaces that are gone', () => {
    const v = new ResourceVerifier();
    const [root, sub, end] = POD as [ContainerEvent, ContainerEvent, ContainerEvent];
    expect(v.verify(scrape([root, sub, end])).ok).toBe(true);
    expect(v.verify(scrape([root, sub])).ok).toBe(true);
    expect(v.containerCount).toBe(2);
    const net = capture('event-network.wire.json');
    expect(v.verify(scrape([net])).ok).toBe(true);
    expect(v.verify(scrape([{ ...net, interfaces: [] }])).ok).toBe(true);
    const eth0 = { ...net.interfaces[0]!, rxBytes: 0 };
    expect(v.verify(scrape([{ ...net, interfaces: [eth0] }])).ok).toBe(true); // a new eth0, say
  });

  it("serves a pod container's host-cgroup share never below the last one served", () => {
    // runsc's share of a container falls when another container's proportion grows faster.
    const host = (ns: number): HostCpuReading => ({ kind: 'usage', ns });
    const ev = (app: number, pod: number, id: 'app01' | 'pod01'): ContainerEvent => ({
      ...capture(id === 'app01' ? 'event-pod-sub.wire.json' : 'event-pod-root.wire.json'),
      containerUsage: new Map([
        ['app01', app],
        ['pod01', pod],
      ]),
    });
    const v = new ResourceVerifier();
    const step = (app: number, pod: number, cgroup: number) => {
      const events = [ev(app, pod, 'pod01'), ev(app, pod, 'app01')];
      const s = scrape(events, { cpuNs: events.map((e) => containerCpuNs(e, host(cgroup))) });
      const r = v.verify(s);
      if (!r.ok) throw new Error(r.reason.toString());
      return { derived: s.cpuNs, served: r.cpuNs };
    };
    expect(step(100e6, 100e6, 400e6)).toEqual({ derived: [200e6, 200e6], served: [200e6, 200e6] });
    // pod01 spins, app01 idles: app01's share of the host total falls from 200 to 150 ms.
    expect(step(100e6, 300e6, 600e6)).toEqual({ derived: [450e6, 150e6], served: [450e6, 200e6] });
    expect(step(300e6, 300e6, 900e6)).toEqual({ derived: [450e6, 450e6], served: [450e6, 450e6] });
  });
});
