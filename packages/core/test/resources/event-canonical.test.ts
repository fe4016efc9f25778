// The canonical Event decoder against the general path (JSON parse + decodeEventResult), its
// oracle: on every real capture, on replies encoded as Go encodes them, and on mutations of
// both, it returns exactly what the general path returns or declines; it never accepts bytes
// the general path rejects.
import { parseJson } from '@org/metricserver-prom-format';
import { describe, expect, it } from 'vitest';
import { rng } from '../../../../test-support/rng.js';
import { decodeCanonicalEvent } from '../../src/resources/event-canonical.js';
import { type ContainerEvent, decodeEventResult } from '../../src/resources/event-decode.js';
import { eventCapture, eventCaptureNames, eventSeries } from '../support/event-captures.js';

/** The general path's verdict: the event, or undefined when it fails or the reply is a failure. */
function general(text: string): ContainerEvent | undefined {
  try {
    const env = parseJson(text) as { success?: unknown; err?: unknown; result?: unknown };
    if (env === null || typeof env !== 'object' || env.success !== true || (env.err ?? '') !== '') return undefined;
    return decodeEventResult(env.result);
  } catch {
    return undefined;
  }
}

function canonical(text: string): ContainerEvent | undefined {
  const bytes = Buffer.from(text, 'utf8');
  return decodeCanonicalEvent(bytes, bytes.length);
}

/** Comparable form: containerUsage as sorted entries (Map order is not part of the result). */
function plain(e: ContainerEvent | undefined): unknown {
  if (e === undefined) return undefined;
  const usage = e.containerUsage === undefined ? undefined : [...e.containerUsage].sort(([a], [b]) => (a < b ? -1 : 1));
  return { ...e, containerUsage: usage };
}

/** Agrees with the general path: the same event, or declined. Returns whether it accepted. */
function agrees(text: string): boolean {
  const c = canonical(text);
  if (c === undefined) return false;
  expect(plain(c), text).toEqual(plain(general(text)));
  return true;
}

/** Go's encoding of a random EventOut, field order and omitempty as runsc writes them. */
function goReply(r: () => number): string {
  const int = (): number => (r() < 0.3 ? 0 : Math.floor(r() * 10 ** Math.floor(r() * 16)));
  const id = (): string => {
    const chars = 'abcdefghijklmnopqrstuvwxyz0123456789-_.';
    let s = '';
    const n = 1 + Math.floor(r() * 12);
    for (let i = 0; i < n; i++) s += chars[Math.floor(r() * chars.length)];
    return s;
  };
  const omitted = (key: string, v: number): string[] => (v === 0 ? [] : [`"${key}":${v}`]);
  const cpu = [...omitted('kernel', int()), ...omitted('user', int()), ...omitted('total', int())];
  const entry = (): string =>
    `{${[`"limit":${int()}`, ...omitted('usage', int()), ...omitted('max', int()), `"failcnt":${int()}`].join(',')}}`;
  const pids = [...omitted('current', int()), ...omitted('limit', int())];
  const names = new Set<string>();
  const nics: string[] = [];
  const nNics = Math.floor(r() * 4);
  for (let i = 0; i < nNics; i++) {
    const name = i === 0 ? 'lo' : `eth${i - 1}`;
    names.add(name);
    const counters = ['Rx', 'Tx'].flatMap((d) =>
      ['Bytes', 'Packets', 'Errors', 'Dropped'].map((k) => `"${d}${k}":${int()}`),
    );
    nics.push(`{"Name":"${name}",${counters.join(',')}}`);
  }
  nics.sort(() => r() - 0.5); // a Go map walk
  const network = nics.length === 0 && r() < 0.5 ? 'null' : `[${nics.join(',')}]`;
  const ids = Array.from({ length: Math.floor(r() * 4) }, id).sort();
  const usage = r() < 0.2 ? 'null' : `{${ids.map((k) => `"${k}":${int()}`).join(',')}}`;
  const asked = ids[0] ?? id();
  return (
    `{"success":true,"err":"","result":{"event":{"type":"stats","id":"${asked}","data":{"cpu":{"usage":{${cpu.join(',')}}},` +
    `"memory":{"usage":${entry()},"swap":${entry()},"kernel":${entry()},"kernelTCP":${entry()}},` +
    `"pids":{${pids.join(',')}},"network_interfaces":${network}}},"containerUsage":${usage}}}`
  );
}

/** One random edit: a byte deleted, replaced, inserted, or a span repeated. */
function mutate(text: string, r: () => number): string {
  const alphabet = '{}[],:"\\0123456789-.eE abnlu\u00e9';
  const at = Math.floor(r() * text.length);
  const ch = alphabet[Math.floor(r() * alphabet.length)]!;
  switch (Math.floor(r() * 4)) {
    case 0:
      return text.slice(0, at) + text.slice(at + 1);
    case 1:
      return text.slice(0, at) + ch + text.slice(at + 1);
    case 2:
      return text.slice(0, at) + ch + text.slice(at);
    default: {
      const len = 1 + Math.floor(r() * 20);
      return text.slice(0, at + len) + text.slice(at, at + len) + text.slice(at + len);
    }
  }
}

const successfulCaptures = (): string[] =>
  eventCaptureNames()
    .map(eventCapture)
    .filter((t) => t.startsWith('{"success":true'));

describe('decodeCanonicalEvent', () => {
  it('takes every real stats reply of runsc (the fast path is the one real sandboxes use)', () => {
    const captures = successfulCaptures();
    expect(captures.length).toBeGreaterThanOrEqual(10);
    for (const text of captures) expect(agrees(text), text).toBe(true);
    for (const name of ['event-busy-series.txt', 'event-memory-series.txt', 'event-network-series.txt']) {
      for (const { reply } of eventSeries(name)) expect(agrees(reply), reply).toBe(true);
    }
  });

  it('declines failure replies and other encodings, which the general path handles', () => {
    for (const name of eventCaptureNames()) {
      const text = eventCapture(name);
      if (!text.startsWith('{"success":true')) expect(canonical(text), name).toBeUndefined();
    }
    const idle = eventCapture('event-idle.wire.json');
    for (const [from, to] of [
      ['"id":"idle01"', '"id":"idle\\u0030"'], // an escape
      ['"failcnt":0}', '"failcnt":null}'], // null (Go leaves the zero)
      ['"usage":{}', '"usage":{"percpu":[1]}'], // a field never seen
      ['{"success":true', '{ "success":true'], // whitespace
      ['"type":"stats"', '"Type":"stats"'], // another spelling Go accepts
    ] as const) {
      const text = idle.replace(from, to);
      expect(text).not.toBe(idle);
      expect(canonical(text), to).toBeUndefined();
      expect(general(text), to).toBeDefined();
    }
    // 16 digits: the general path keeps them exact; the canonical one leaves them to it.
    expect(canonical(idle.replace('"limit":0', '"limit":1234567890123456'))).toBeUndefined();
    // A name listed twice is the general path's error to report.
    const two = eventCapture('event-network.wire.json').replace('"Name":"eth0"', '"Name":"lo"');
    expect(canonical(two)).toBeUndefined();
    expect(general(two)).toBeUndefined();
  });

  it('agrees with the general path on 2000 replies encoded as Go encodes them', () => {
    const r = rng(20261203);
    let accepted = 0;
    for (let i = 0; i < 2000; i++) if (agrees(goReply(r))) accepted++;
    expect(accepted).toBe(2000);
  });

  it('never accepts what the general path rejects, nor differs from it, over 20000 mutations', () => {
    const r = rng(7);
    const bases = [...successfulCaptures(), ...Array.from({ length: 50 }, () => goReply(r))];
    let declined = 0;
    for (let i = 0; i < 20_000; i++) {
      let text = bases[i % bases.length]!;
      for (let k = 1 + Math.floor(r() * 2); k > 0; k--) text = mutate(text, r);
      const c = canonical(text);
      if (c === undefined) declined++;
      else expect(plain(c), text).toEqual(plain(general(text)));
    }
    // Most edits break the exact encoding; some (a digit for a digit) keep it.
    expect(declined).toBeGreaterThan(10_000);
    expect(declined).toBeLessThan(20_000);
  });

  it('reads only bytes[0, length): a longer buffer with more after the reply changes nothing', () => {
    const text = eventCapture('event-idle.wire.json');
    const bytes = Buffer.from(`${text}{"junk":1}`);
    expect(plain(decodeCanonicalEvent(bytes, Buffer.byteLength(text)))).toEqual(plain(general(text)));
    expect(decodeCanonicalEvent(bytes, bytes.length)).toBeUndefined();
  });
});
