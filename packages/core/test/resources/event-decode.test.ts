import { DecodeError, parseJson } from '@org/metricserver-prom-format';
import { describe, expect, it } from 'vitest';
import { type ContainerEvent, decodeEventResult } from '../../src/resources/event-decode.js';
import { eventCapture, eventCaptureNames, eventSeries } from '../support/event-captures.js';

/** The `result` of a capture, parsed as the urpc client parses it. */
const resultOf = (text: string): unknown => (parseJson(text) as { result: unknown }).result;
const decodeCapture = (name: string): ContainerEvent => decodeEventResult(resultOf(eventCapture(name)));

/** A capture's reply text with `edit` applied to its result (re-serialised: only for shape edits). */
function edited(name: string, edit: (r: any) => void): unknown {
  const r = JSON.parse(eventCapture(name)).result;
  edit(r);
  return r;
}

const LO = {
  name: 'lo',
  rxBytes: 0,
  rxPackets: 0,
  rxErrors: 0,
  rxDropped: 0,
  txBytes: 0,
  txPackets: 0,
  txErrors: 0,
  txDropped: 0,
};

function decodeError(value: unknown): DecodeError {
  try {
    decodeEventResult(value);
  } catch (e) {
    expect(e).toBeInstanceOf(DecodeError);
    return e as DecodeError;
  }
  throw new Error('decoded');
}

/** The idle capture's reply text with `from` replaced by `to` (exactly once), parsed losslessly. */
function idleWith(from: string, to: string): unknown {
  const text = eventCapture('event-idle.wire.json');
  expect(text.split(from)).toHaveLength(2);
  return resultOf(text.replace(from, to));
}

describe('decodeEventResult on real runsc replies', () => {
  it('the usual shape: CPU only in containerUsage, memory, one task, lo all zeros', () => {
    expect(decodeCapture('event-idle.wire.json')).toEqual({
      id: 'idle01',
      cpuTotalNs: undefined,
      containerUsage: new Map([['idle01', 100000000]]),
      memoryUsageBytes: 2031616,
      memoryLimitBytes: 0,
      pidsCurrent: 1,
      pidsLimit: 0,
      interfaces: [LO],
    });
    expect(decodeCapture('event-busy.wire.json').containerUsage).toEqual(new Map([['busy01', 3280000000]]));
  });

  it('a pod: the same whole-sandbox containerUsage for root and subcontainer; root memory omitted (0)', () => {
    const root = decodeCapture('event-pod-root.wire.json');
    const sub = decodeCapture('event-pod-sub.wire.json');
    const usage = new Map([
      ['app01', 840000000],
      ['pod01', 30000000],
    ]);
    expect(root).toMatchObject({ id: 'pod01', containerUsage: usage, memoryUsageBytes: 0, pidsCurrent: 1 });
    expect(sub).toMatchObject({ id: 'app01', containerUsage: usage, memoryUsageBytes: 10414080, pidsCurrent: 1 });
    const exited = decodeCapture('event-pod-sub-exited.wire.json');
    expect(exited).toMatchObject({ id: 'end01', memoryUsageBytes: 10414080, pidsCurrent: 0 });
    expect(exited.containerUsage!.has('end01')).toBe(false);
  });

  it('created, not started: pids {}, network_interfaces null, containerUsage {}', () => {
    expect(decodeCapture('event-created-not-started.wire.json')).toEqual({
      id: 'cr01',
      cpuTotalNs: undefined,
      containerUsage: new Map(),
      memoryUsageBytes: 12288,
      memoryLimitBytes: 0,
      pidsCurrent: 0,
      pidsLimit: 0,
      interfaces: [],
    });
  });

  it('the cgroupfs shape: cpu.usage.total set, containerUsage null', () => {
    expect(decodeCapture('event-cgroupfs.wire.json')).toMatchObject({
      id: 'cg01',
      cpuTotalNs: 290000000,
      containerUsage: undefined,
      memoryUsageBytes: 2011136,
    });
    expect(decodeCapture('event-cgroupfs-pod-root.wire.json')).toMatchObject({ id: 'cgp01', cpuTotalNs: 30000000 });
    expect(decodeCapture('event-cgroupfs-pod-sub.wire.json')).toMatchObject({ id: 'cga01', cpuTotalNs: 480000000 });
  });

  it('interfaces come sorted by name whatever order the sandbox drew', () => {
    const ev = decodeCapture('event-network.wire.json');
    expect(ev.interfaces.map((i) => i.name)).toEqual(['eth0', 'lo']);
    expect(ev.interfaces[0]).toEqual({
      name: 'eth0',
      rxBytes: 644,
      rxPackets: 10,
      rxErrors: 0,
      rxDropped: 0,
      txBytes: 204,
      txPackets: 4,
      txErrors: 0,
      txDropped: 0,
    });
    const series = eventSeries('event-network-series.txt').map((l) => decodeEventResult(resultOf(l.reply)));
    const raw = eventSeries('event-network-series.txt').map((l) => JSON.parse(l.reply).result.event.data);
    expect(new Set(raw.map((d) => d.network_interfaces[0].Name))).toEqual(new Set(['lo', 'eth0'])); // reshuffled
    for (const ev of series) expect(ev.interfaces.map((i) => i.name)).toEqual(['eth0', 'lo']);
  });

  it('decodes every success capture and every line of the series', () => {
    const names = eventCaptureNames().filter((n) => JSON.parse(eventCapture(n)).success === true);
    expect(names.length).toBeGreaterThanOrEqual(11);
    for (const n of names) expect(() => decodeCapture(n), n).not.toThrow();
    for (const s of ['event-busy-series.txt', 'event-memory-series.txt', 'event-network-series.txt']) {
      for (const l of eventSeries(s)) expect(() => decodeEventResult(resultOf(l.reply)), s).not.toThrow();
    }
  });
});

describe('decodeEventResult numbers (uint64 as Go decodes it)', () => {
  it('keeps values above 2^53 exactly as bigint, up to 2^64-1', () => {
    const big = decodeEventResult(idleWith('"idle01":100000000', '"idle01":18446744073709551615'));
    expect(big.containerUsage!.get('idle01')).toBe(18446744073709551615n);
    const safe = decodeEventResult(idleWith('"usage":2031616', '"usage":9007199254740991'));
    expect(safe.memoryUsageBytes).toBe(9007199254740991);
    const above = decodeEventResult(idleWith('"RxBytes":0', '"RxBytes":9007199254740993'));
    expect(above.interfaces[0]!.rxBytes).toBe(9007199254740993n);
  });

  it.each([
    ['a fraction', '2031616.5', /not an integer literal/],
    ['an integral float', '2031616.0', /written as a float/],
    ['an exponent', '2e6', /written as a float/],
    ['a negative number', '-4096', /negative/],
    ['minus zero', '-0', /-0: a negative number/],
    ['2^64', '18446744073709551616', /above 2\^64-1/],
    ['a string', '"2031616"', /got a string "2031616"/],
    ['a boolean', 'true', /got boolean true/],
    ['an object', '{}', /got an object/],
  ])('refuses %s where a uint64 is expected, naming the path', (_what, literal, detail) => {
    const e = decodeError(idleWith('"usage":2031616', `"usage":${literal}`));
    expect(e.path).toBe('$.result.event.data.memory.usage.usage');
    expect(e.detail).toMatch(detail);
  });

  it('refuses a number where Go wants an object, also one written as a float', () => {
    expect(decodeError(idleWith('"pids":{"current":1}', '"pids":1e3')).message).toBe(
      '$.result.event.data.pids: expected a Pids object, got the number 1000',
    );
    expect(decodeError(idleWith('"pids":{"current":1}', '"pids":7')).message).toBe(
      '$.result.event.data.pids: expected a Pids object, got number 7',
    );
  });

  it('checks every uint64 Go would decode, also those not kept', () => {
    const at = (from: string, to: string): string => decodeError(idleWith(from, to)).path;
    expect(at('"cpu":{"usage":{}}', '"cpu":{"usage":{"percpu":[1,-2]}}')).toBe(
      '$.result.event.data.cpu.usage.percpu[1]',
    );
    expect(at('"cpu":{"usage":{}}', '"cpu":{"usage":{"kernel":1.5}}')).toBe('$.result.event.data.cpu.usage.kernel');
    expect(at('"swap":{"limit":0', '"swap":{"limit":-1')).toBe('$.result.event.data.memory.swap.limit');
    expect(at('"memory":{', '"memory":{"raw":{"x":"1"},')).toBe('$.result.event.data.memory.raw["x"]');
    expect(at('"memory":{', '"memory":{"cache":1e3,')).toBe('$.result.event.data.memory.cache');
    expect(at('"pids":{"current":1}', '"pids":{"current":1,"limit":-5}')).toBe('$.result.event.data.pids.limit');
    expect(at('"idle01":100000000', '"idle01":-100000000')).toBe('$.result.containerUsage["idle01"]');
    expect(at('"TxDropped":0', '"TxDropped":0.25')).toBe('$.result.event.data.network_interfaces[0].TxDropped');
  });
});

describe('decodeEventResult shape rules', () => {
  it('needs event.type "stats"', () => {
    expect(decodeError(edited('event-idle.wire.json', (r) => (r.event.type = 'oom'))).message).toBe(
      '$.result.event.type: expected "stats", got "oom"',
    );
    expect(decodeError(edited('event-idle.wire.json', (r) => delete r.event)).path).toBe('$.result.event.type');
    expect(decodeError(null).message).toMatch(/expected an EventOut object, got null/);
    expect(decodeError([]).message).toMatch(/expected an EventOut object, got an array/);
  });

  it('refuses a repeated interface name and a null interface entry', () => {
    const twice = edited('event-network.wire.json', (r) => {
      r.event.data.network_interfaces[1].Name = 'eth0';
    });
    expect(decodeError(twice).message).toBe(
      '$.result.event.data.network_interfaces: network interface "eth0" is listed more than once',
    );
    const nil = edited('event-idle.wire.json', (r) => r.event.data.network_interfaces.push(null));
    expect(decodeError(nil).path).toBe('$.result.event.data.network_interfaces[1]');
  });

  it('refuses wrong types of objects, arrays and strings', () => {
    const at = (edit: (r: any) => void): string => decodeError(edited('event-idle.wire.json', edit)).path;
    expect(at((r) => (r.event.data.network_interfaces = {}))).toBe('$.result.event.data.network_interfaces');
    expect(at((r) => (r.event.data.pids = []))).toBe('$.result.event.data.pids');
    expect(at((r) => (r.event.id = 5))).toBe('$.result.event.id');
    expect(at((r) => (r.event.data.network_interfaces[0].Name = 1))).toBe(
      '$.result.event.data.network_interfaces[0].Name',
    );
    expect(at((r) => (r.containerUsage = [1]))).toBe('$.result.containerUsage');
  });

  it('ignores unknown keys and matches known ones case-insensitively, as Go does', () => {
    const ev = decodeEventResult(
      edited('event-idle.wire.json', (r) => {
        r.future = { anything: [1, 'x'] };
        r.event.data.blkio = 'new in some later runsc';
        r.event.data.PIDS = { Current: 3 };
        delete r.event.data.pids;
        r.event.data.network_interfaces[0] = { name: 'lo', rxbytes: 7, RXPACKETS: 1, Extra: -1 };
        r.ContainerUsage = r.containerUsage;
        delete r.containerUsage;
      }),
    );
    expect(ev.pidsCurrent).toBe(3);
    expect(ev.containerUsage).toEqual(new Map([['idle01', 100000000]]));
    expect(ev.interfaces).toEqual([{ ...LO, rxBytes: 7, rxPackets: 1 }]);
  });

  it('reads null as Go does: zero for numbers and structs, no interfaces, no containerUsage', () => {
    const ev = decodeEventResult(
      edited('event-idle.wire.json', (r) => {
        r.event.data.pids = null;
        r.event.data.memory.usage.usage = null;
        r.event.data.network_interfaces = null;
        r.containerUsage = null;
        r.event.data.cpu.usage.total = null;
      }),
    );
    expect(ev).toMatchObject({ pidsCurrent: 0, memoryUsageBytes: 0, interfaces: [], containerUsage: undefined });
    expect(ev.cpuTotalNs).toBeUndefined();
  });
});
