// The fast-path decoder built from a registration's rules: it takes the real
// runsc replies (so scrapes skip the JSON tree), it is shared per registration, and
// anything a lying sandbox could send goes the general way to the verifier.
import {
  DecodedPoints,
  decodeExportResult,
  decodeRegistration,
  parseJson,
  pointsOf,
  type Snapshot,
} from '@org/metricserver-prom-format';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readCapture } from '../../../../test-support/captures.js';
import { exportMetrics, UrpcProtocolError } from '../../src/urpc/index.js';
import { snapshotDecoderFor, Verifier } from '../../src/verifier/index.js';
import { type FakeServer, startFakeServer } from '../urpc/fake-server.js';

const text = (name: string): string => readCapture(name);
const registration = decodeRegistration(
  (parseJson(text('registered-metrics.wire.json')) as { result: { RegisteredMetrics: unknown } }).result
    .RegisteredMetrics,
);
const general = (reply: string): Snapshot =>
  decodeExportResult((parseJson(reply) as { result: unknown }).result).snapshot;
/** A snapshot as plain data (the fast path's points are columns; `toSnapshot()` is what they mean). */
const plain = (s: Snapshot | DecodedPoints | undefined): Snapshot | undefined =>
  s === undefined ? undefined : s instanceof DecodedPoints ? s.toSnapshot() : { when: s.when, data: [...s.data] };
const fast = (reply: string): Snapshot | undefined => {
  const b = Buffer.from(reply.trimEnd(), 'utf8');
  return plain(snapshotDecoderFor(registration).decodeReply(b, b.length, new DecodedPoints()));
};
const REPLIES = [
  'export-metrics.wire.json',
  'export-metrics-filtered.wire.json',
  'export-metrics-created-sandbox.wire.json',
];

describe('snapshotDecoderFor', () => {
  it.each(REPLIES)('takes the real reply %s and decodes it as the general path does', (name) => {
    const got = fast(text(name));
    expect(got).toBeDefined();
    expect(got).toStrictEqual(general(text(name)));
  });

  it('is built once per registration object', () => {
    expect(snapshotDecoderFor(registration)).toBe(snapshotDecoderFor(registration));
  });

  it('is shared by registrations listing the same metrics in another order, not by different ones', () => {
    const reversed = { ...registration, metrics: [...(registration.metrics ?? [])].reverse() };
    expect(reversed.metrics[0]).not.toBe(registration.metrics?.[0]);
    expect(snapshotDecoderFor(reversed)).toBe(snapshotDecoderFor(registration));
    const fewer = { ...registration, metrics: (registration.metrics ?? []).slice(1) };
    expect(snapshotDecoderFor(fewer)).not.toBe(snapshotDecoderFor(registration));
    const b = Buffer.from(text('export-metrics.wire.json').trimEnd(), 'utf8');
    expect(plain(snapshotDecoderFor(reversed).decodeReply(b, b.length, new DecodedPoints()))).toStrictEqual(
      general(text('export-metrics.wire.json')),
    );
  });

  it('leaves replies the verifier must refuse to the general path', () => {
    const base = text('export-metrics.wire.json');
    const lies = [
      base.replace('"name":"fs_opens","type":2', '"name":"fs_opens","type":1'), // wrong type
      base.replace('"sysno":"334"', '"sysno":"99999"'), // value not allowed
      base.replace('"name":"fs_opens"', '"name":"made_up_metric"'), // unregistered
    ];
    const v = new Verifier(registration);
    for (const lie of lies) {
      expect(lie).not.toBe(base);
      expect(fast(lie)).toBeUndefined();
      const verdict = v.verify(pointsOf(general(lie)), general(lie).when);
      expect(verdict.ok).toBe(false);
    }
  });
});

describe('exportMetrics with the decoder', () => {
  const servers: FakeServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  const replay = async (response: string): Promise<FakeServer> => {
    const s = await startFakeServer(({ socket }) => void socket.write(response));
    servers.push(s);
    return s;
  };

  it('resolves with the same snapshot as without it', async () => {
    for (const name of REPLIES) {
      const server = await replay(text(name));
      const decoder = snapshotDecoderFor(registration);
      const decoded = vi.spyOn(decoder, 'decodeReply');
      const withIt = await exportMetrics(server.path, '', { decoder });
      const without = await exportMetrics(server.path, '');
      expect(decoded.mock.results.some((r) => r.value instanceof DecodedPoints)).toBe(true); // it took the reply
      decoded.mockRestore();
      expect(plain(withIt)).toStrictEqual(plain(without));
    }
  });

  it('still re-checks the filter on replies it decoded', async () => {
    const server = await replay(text('export-metrics.wire.json'));
    const e = await exportMetrics(server.path, '^fs_', {
      decoder: snapshotDecoderFor(registration),
      matchesFilter: (n) => n.startsWith('fs_'),
    }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(UrpcProtocolError);
    expect((e as Error).message).toMatch(/violated the filter/);
  });

  it("gives the general path's error for a reply it does not take", async () => {
    const server = await replay('{"success":true,"err":"","result":{"snapshot":{"when":"not a time","data":[]}}}');
    const e = await exportMetrics(server.path, '', { decoder: snapshotDecoderFor(registration) }).catch(
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(UrpcProtocolError);
    expect((e as Error).message).toMatch(/result does not have the expected shape at \$\.result\.snapshot\.when/);
  });
});
