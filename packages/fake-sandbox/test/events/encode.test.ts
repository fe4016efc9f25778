// The encoder against real runsc bytes: every successful capture, decoded into a
// ContainerEvent and encoded again, must come out identical; the error captures
// must be what the dispatcher answers.
import { describe, expect, it } from 'vitest';
import { type ContainerEvent, encodeEventReply, hugeEventParts } from '../../src/events/encode.js';
import { decodeRequest, notFound } from '../../src/urpc/dispatch.js';
import { eventCapture, eventCaptures, eventSeries } from '../support/captures.js';

interface WireEvent {
  event: {
    id: string;
    data: {
      cpu: { usage: { total?: number } };
      memory: { usage: { usage?: number } };
      pids: { current?: number };
      network_interfaces: ContainerEvent['interfaces'];
    };
  };
  containerUsage: Record<string, number> | null;
}

const fromWire = (reply: string): ContainerEvent => {
  const r = JSON.parse(reply).result as WireEvent;
  const d = r.event.data;
  return {
    id: r.event.id,
    cpuTotal: d.cpu.usage.total ?? 0,
    memoryUsage: d.memory.usage.usage ?? 0,
    pidsCurrent: d.pids.current ?? 0,
    interfaces: d.network_interfaces,
    containerUsage: r.containerUsage,
  };
};

const ctx = { registrationJson: '{}', runtimeState: () => undefined };
const replyTo = (request: string): string => {
  const d = decodeRequest(request, ctx);
  if (d.kind !== 'reply') throw new Error(`expected a direct reply, got ${d.kind}`);
  return d.json;
};

describe('containerManager.Event encoding, byte for byte against runsc', () => {
  const ok = [...eventCaptures()].filter(([, bytes]) => bytes.startsWith('{"success":true'));
  const series = ['event-busy-series.txt', 'event-memory-series.txt', 'event-network-series.txt'];

  it('covers the captured shapes (single, pod root and sub, created, cgroupfs, eth0)', () => {
    expect(ok.map(([n]) => n)).toEqual(
      expect.arrayContaining([
        'event-idle.wire.json',
        'event-pod-root.wire.json',
        'event-pod-sub.wire.json',
        'event-created-not-started.wire.json',
        'event-cgroupfs.wire.json',
        'event-network.wire.json',
      ]),
    );
  });

  it.each(ok)('%s', (_name, bytes) => {
    expect(encodeEventReply(fromWire(bytes))).toBe(bytes);
  });

  it.each(series)('%s, every sample', (name) => {
    for (const { reply } of eventSeries(name)) expect(encodeEventReply(fromWire(reply))).toBe(reply);
  });

  it('a huge reply is the head, repeated idle interfaces and the tail: valid JSON', () => {
    const e = fromWire(eventCapture('event-pod-sub.wire.json'));
    const p = hugeEventParts(e);
    const text = `${p.head}${p.chunk.toString()}${p.chunk.toString()}${p.tail}`;
    const r = JSON.parse(text).result;
    expect(r.event.id).toBe('app01');
    expect(r.event.data.network_interfaces.length).toBeGreaterThan(1000);
    expect(r.containerUsage).toEqual({ app01: 840000000, pod01: 30000000 });
  });
});

describe('containerManager.Event errors, byte for byte against runsc', () => {
  const req = (arg: string): string => `{"method":"containerManager.Event","arg":${arg}}`;

  it('unknown and empty ids', () => {
    expect(notFound('nope')).toBe(eventCapture('event-unknown-id.wire.json'));
    expect(notFound('')).toBe(eventCapture('event-empty-id.wire.json'));
    expect(notFound('a"b\\c\n')).toBe(
      '{"success":false,"err":"container \\"a\\\\\\"b\\\\\\\\c\\\\n\\" not found","result":null}',
    );
  });

  it('arguments Go cannot unmarshal into a string', () => {
    expect(replyTo(req('5'))).toBe(eventCapture('event-arg-number.wire.json'));
    expect(replyTo(req('{}'))).toBe(eventCapture('event-arg-object.wire.json'));
    expect(replyTo(req('["idle01"]'))).toBe(eventCapture('event-arg-array.wire.json'));
    expect(replyTo('{"method":"containerManager.Event"}')).toBe(eventCapture('event-arg-missing.wire.json'));
    expect(replyTo(req('true'))).toBe(
      '{"success":false,"err":"json: cannot unmarshal bool into Go value of type string","result":null}',
    );
  });

  it('a string (or null, which Go leaves empty) goes to the sandbox', () => {
    expect(decodeRequest(req('"idle01"'), ctx)).toEqual({ kind: 'event', containerId: 'idle01' });
    expect(decodeRequest(req('null'), ctx)).toEqual({ kind: 'event', containerId: '' });
  });

  it('ContainerRuntimeState decodes its id the same way', () => {
    expect(replyTo('{"method":"containerManager.ContainerRuntimeState","arg":5}')).toBe(
      eventCapture('event-arg-number.wire.json'),
    );
  });
});
