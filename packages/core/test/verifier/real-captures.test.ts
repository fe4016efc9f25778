// The real runsc 20240729 captures: the registration a sandbox reported and the
// snapshots it exported verify OK with the server clock set near their `when`.
import {
  decodeExportResult,
  decodeRegistration,
  parseJson,
  pointsOf,
  type Snapshot,
} from '@org/metricserver-prom-format';
import { describe, expect, it } from 'vitest';
import { readCapture } from '../../../../test-support/captures.js';
import { Verifier } from '../../src/verifier/index.js';

function wireResult(name: string): unknown {
  const text = readCapture(name);
  return (parseJson(text) as { result: unknown }).result;
}
const registration = () =>
  decodeRegistration((wireResult('registered-metrics.wire.json') as { RegisteredMetrics: unknown }).RegisteredMetrics);
const snapshot = (name: string): Snapshot => decodeExportResult(wireResult(name)).snapshot;
const plus = (s: Snapshot, ms: number) => ({ seconds: s.when.seconds + Math.floor(ms / 1000), nanos: s.when.nanos });

describe('real captures', () => {
  it('the full export and then the filtered export of the same sandbox verify in order', () => {
    const v = new Verifier(registration());
    const all = snapshot('export-metrics.wire.json');
    const fs = snapshot('export-metrics-filtered.wire.json');
    expect(all.data).toHaveLength(7);
    expect(v.verify(pointsOf(all), plus(all, 1000))).toEqual({ ok: true });
    expect(v.verify(pointsOf(fs), plus(fs, 2000))).toEqual({ ok: true });
    // Replaying the older full export now goes back in time.
    const again = v.verify(pointsOf(all), plus(fs, 2000));
    expect(again.ok ? 'ok' : again.reason.code).toBe('time-went-back');
  });

  it('the export of a created-but-not-started sandbox (weirdness label) verifies', () => {
    const v = new Verifier(registration());
    const s = snapshot('export-metrics-created-sandbox.wire.json');
    expect(v.verify(pointsOf(s), s.when)).toEqual({ ok: true });
  });

  it('a real snapshot is too old 10 s + 1 ns later, and from the future 1 ns earlier', () => {
    const v = new Verifier(registration());
    const s = snapshot('export-metrics-filtered.wire.json');
    const r1 = v.verify(pointsOf(s), { seconds: s.when.seconds + 10, nanos: s.when.nanos + 1 });
    expect(r1.ok ? 'ok' : r1.reason.code).toBe('too-old');
    const r2 = v.verify(pointsOf(s), { seconds: s.when.seconds, nanos: s.when.nanos - 1 });
    expect(r2.ok ? 'ok' : r2.reason.code).toBe('future');
  });

  it('a counter of the real registration that goes down is refused', () => {
    const v = new Verifier(registration());
    const s = snapshot('export-metrics-filtered.wire.json');
    expect(v.verify(pointsOf(s), s.when).ok).toBe(true);
    const lower: Snapshot = {
      when: s.when,
      data: s.data.map((d) => (d.metric.name === 'fs_reads' ? { ...d, number: { int: 22, float: 0 } } : d)),
    };
    const r = v.verify(pointsOf(lower), s.when);
    expect(r.ok ? 'ok' : r.reason.message).toBe('metric "fs_reads": counter value decreased from 23 to 22');
  });
});
