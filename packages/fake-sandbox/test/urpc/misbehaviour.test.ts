import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCapture } from '../../../../test-support/captures.js';
import {
  type Behaviour,
  type BehaviourName,
  createFleet,
  type FakeSandbox,
  type Fleet,
  INJECTED_ERROR,
} from '../../src/index.js';
import { call, EXPORT_ALL, exportReq, jsonEnd, openSocket, readReply, shortRoot } from '../support/client.js';

const fixture = (name: string): string => readCapture(name);
const REAL = JSON.parse(fixture('registered-metrics.wire.json')).result.RegisteredMetrics.metrics as {
  prometheus_name: string;
  cumulative?: boolean;
  fields?: { field_name: string; allowed_values: string[] }[];
}[];
const REGISTERED = new Map(REAL.map((m) => [m.prometheus_name, m]));

interface Entry {
  metric: { name: string; type: number; help: string };
  labels?: Record<string, string>;
  external_labels?: Record<string, string>;
  val?: Record<string, unknown>;
  histogram?: { buckets: unknown[] };
}

let fleet: Fleet;
const sandboxes = new Map<string, FakeSandbox>();
async function sandbox(b: BehaviourName | Behaviour): Promise<FakeSandbox> {
  const key = typeof b === 'string' ? b : `${b.name}:${b.param}`;
  let sb = sandboxes.get(key);
  if (!sb) {
    sb = await fleet.add({ behaviour: b, backlog: 2 });
    sandboxes.set(key, sb);
  }
  return sb;
}
const exportData = async (sb: FakeSandbox, req = EXPORT_ALL): Promise<{ when: string; data: Entry[]; raw: string }> => {
  const r = await call(sb.socketPath, req);
  expect(r.end).toBe('complete');
  const raw = r.bytes.toString();
  const snap = JSON.parse(raw).result.snapshot;
  return { when: snap.when, data: snap.data ?? [], raw };
};
const whenMs = (when: string): number => Date.parse(when);

beforeAll(async () => {
  fleet = await createFleet({ root: shortRoot(), metricServer: '/run/ms.sock', seed: 3 });
});
afterAll(() => fleet.close());

describe('transport misbehaviours (socket level)', () => {
  it('slow: answers a complete reply after the delay', async () => {
    const r = await call((await sandbox({ name: 'slow', param: 400 })).socketPath, EXPORT_ALL, 3000);
    expect(r.end).toBe('complete');
    expect(r.ms).toBeGreaterThanOrEqual(350);
    expect(JSON.parse(r.bytes.toString()).success).toBe(true);
  });

  it('stall-accept: connections queue in the backlog unanswered, then connect fails with EAGAIN', async () => {
    const sb = await sandbox('stall-accept');
    const socks: Socket[] = [];
    const outcomes: string[] = [];
    for (let i = 0; i < 8; i++) {
      outcomes.push(
        await new Promise<string>((resolve) => {
          const s = connect(sb.socketPath);
          socks.push(s);
          s.once('connect', () => resolve('connected'));
          s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
        }),
      );
    }
    try {
      expect(outcomes).toContain('connected');
      expect(outcomes).toContain('EAGAIN');
      const first = socks[0] as Socket;
      first.write(EXPORT_ALL);
      const r = await readReply(first, 500);
      expect(r.end).toBe('timeout');
      expect(r.bytes.length).toBe(0);
      // Back to honest: the queued connection is accepted and answered.
      await sb.setBehaviour('honest');
      const late = await readReply(first, 2000);
      expect(late.end).toBe('complete');
    } finally {
      for (const s of socks) s.destroy();
    }
  });

  it('no-answer: accepts, reads the request, never answers, keeps the connection open', async () => {
    const r = await call((await sandbox('no-answer')).socketPath, EXPORT_ALL, 600);
    expect(r.end).toBe('timeout');
    expect(r.bytes.length).toBe(0);
  });

  it('half-json: sends half a JSON object, then hangs', async () => {
    const r = await call((await sandbox('half-json')).socketPath, EXPORT_ALL, 600);
    expect(r.end).toBe('timeout');
    expect(r.bytes.length).toBeGreaterThan(100);
    expect(r.bytes.toString().startsWith('{"success":true,"err":"","result":{"snapshot":')).toBe(true);
    expect(jsonEnd(r.bytes)).toBe(-1);
  });

  it('drip: one byte per interval', async () => {
    const r = await call((await sandbox({ name: 'drip', param: 100 })).socketPath, EXPORT_ALL, 550);
    expect(r.end).toBe('timeout');
    expect(r.bytes.length).toBeGreaterThanOrEqual(2);
    expect(r.bytes.length).toBeLessThanOrEqual(8);
    expect(r.bytes.toString()).toBe('{"success":true'.slice(0, r.bytes.length));
  });

  it('garbage: bytes that are not JSON, then close', async () => {
    const r = await call((await sandbox('garbage')).socketPath, EXPORT_ALL);
    expect(r.end).toBe('closed');
    expect(r.bytes.length).toBeGreaterThan(10);
    expect(() => JSON.parse(r.bytes.toString())).toThrow();
  });

  it('error-reply: success false with a message', async () => {
    const r = await call((await sandbox('error-reply')).socketPath, EXPORT_ALL);
    expect(r.bytes.toString()).toBe(`{"success":false,"err":"${INJECTED_ERROR}","result":null}`);
  });

  it('endless: keeps streaming a never-closing JSON reply', async () => {
    const sock = await openSocket((await sandbox('endless')).socketPath);
    let bytes = 0;
    let head = '';
    sock.on('data', (c: Buffer) => {
      if (head.length < 64) head += c.toString();
      bytes += c.length;
    });
    sock.write(EXPORT_ALL);
    await new Promise((r) => setTimeout(r, 400));
    const at400 = bytes;
    await new Promise((r) => setTimeout(r, 200));
    sock.destroy();
    expect(head.startsWith('{"success":true')).toBe(true);
    expect(at400).toBeGreaterThan(1 << 20);
    expect(bytes).toBeGreaterThan(at400);
  });

  it('huge: a complete 200 MB reply', { timeout: 60_000 }, async () => {
    const sock = await openSocket((await sandbox('huge')).socketPath);
    let bytes = 0;
    let tail: Buffer = Buffer.alloc(0);
    await new Promise<void>((resolve) => {
      sock.on('data', (c: Buffer) => {
        bytes += c.length;
        tail = c.length >= 8 ? c : Buffer.concat([tail, c]);
        if (tail.subarray(-4).toString() === ']}}}') resolve();
      });
      sock.write(EXPORT_ALL);
    });
    sock.destroy();
    expect(bytes).toBeGreaterThan(199 * 1024 * 1024);
    expect(bytes).toBeLessThanOrEqual(200 * 1024 * 1024);
  });
});

describe('lying data (registration stays honest)', () => {
  const lie = async (b: BehaviourName): Promise<Entry[]> => (await exportData(await sandbox(b))).data;

  it('the registration in the state file is the real one', async () => {
    const sb = await sandbox('unregistered-metric');
    const reg = JSON.parse(readFileSync(sb.statePath, 'utf8')).sandbox.registeredMetrics.metrics as {
      prometheus_name: string;
    }[];
    expect(new Set(reg.map((m) => m.prometheus_name))).toEqual(new Set(REGISTERED.keys()));
  });

  it('unregistered-metric', async () => {
    expect((await lie('unregistered-metric')).some((d) => !REGISTERED.has(d.metric.name))).toBe(true);
  });

  it('wrong-type: a registered counter sent as a gauge', async () => {
    expect(
      (await lie('wrong-type')).some((d) => REGISTERED.get(d.metric.name)?.cumulative && d.metric.type === 1),
    ).toBe(true);
  });

  it('unregistered-label and unregistered-label-value', async () => {
    expect(
      (await lie('unregistered-label')).some(
        (d) => d.labels?.bogus_field !== undefined && !REGISTERED.get(d.metric.name)?.fields,
      ),
    ).toBe(true);
    const allowed = REGISTERED.get('weirdness')?.fields?.[0]?.allowed_values ?? [];
    expect(
      (await lie('unregistered-label-value')).some(
        (d) => d.metric.name === 'weirdness' && !allowed.includes(d.labels?.weirdness_type ?? ''),
      ),
    ).toBe(true);
  });

  it('duplicate-series', async () => {
    const keys = (await lie('duplicate-series')).map((d) => `${d.metric.name}${JSON.stringify(d.labels ?? {})}`);
    expect(new Set(keys).size).toBeLessThan(keys.length);
  });

  it('counter-decrease: a counter goes down between two exports', async () => {
    const sb = await sandbox('counter-decrease');
    const a = new Map((await exportData(sb)).data.map((d) => [d.metric.name, d.val?.int as number]));
    const b = (await exportData(sb)).data;
    expect(b.some((d) => d.metric.type === 2 && (d.val?.int as number) < (a.get(d.metric.name) ?? 0))).toBe(true);
  });

  it('int-float-switch: the same counter as int, then as float', async () => {
    const sb = await sandbox('int-float-switch');
    const first = (await exportData(sb)).data;
    const second = (await exportData(sb)).data;
    const floats = second.filter((d) => d.val && 'float' in d.val);
    expect(floats.length).toBe(1);
    const name = floats[0]?.metric.name;
    expect(first.find((d) => d.metric.name === name)?.val).toHaveProperty('int');
  });

  it('timestamp-old and timestamp-future move `when` by a minute', async () => {
    const now = Date.now();
    expect(whenMs((await exportData(await sandbox('timestamp-old'))).when)).toBeLessThan(now - 50_000);
    expect(whenMs((await exportData(await sandbox('timestamp-future'))).when)).toBeGreaterThan(now + 50_000);
  });

  it('nan-counter and inf-counter use the string extension', async () => {
    expect((await exportData(await sandbox('nan-counter'))).raw).toContain('"val":{"float":"NaN"}');
    expect((await exportData(await sandbox('inf-counter'))).raw).toContain('"val":{"float":"+Inf"}');
  });

  it('histogram-mismatch: fewer buckets than the registered distribution has', async () => {
    const sb = await sandbox('histogram-mismatch');
    const reg = JSON.parse(readFileSync(sb.statePath, 'utf8')).sandbox.registeredMetrics.metrics as {
      prometheus_name: string;
      distribution_bucket_lower_bounds?: number[];
    }[];
    const dist = reg.find((m) => m.distribution_bucket_lower_bounds);
    expect(dist?.distribution_bucket_lower_bounds).toHaveLength(5);
    const h = (await exportData(sb)).data.find((d) => d.metric.name === dist?.prometheus_name);
    expect(h?.metric.type).toBe(3);
    expect(h?.histogram?.buckets.length).not.toBe(5 + 1);
  });

  it('label-escape: label value with newline, quote, brace and #', async () => {
    const v = (await lie('label-escape')).find((d) => d.metric.name === 'weirdness')?.labels?.weirdness_type ?? '';
    for (const c of ['\n', '"', '}', '{', '#', '\\']) expect(v).toContain(c);
  });

  it('claim-labels and claim-external-labels name another sandbox', async () => {
    const other = fleet.sandboxes[0]?.id;
    expect((await lie('claim-labels')).some((d) => d.labels?.sandbox === other && d.labels?.iteration)).toBe(true);
    expect(
      (await lie('claim-external-labels')).some(
        (d) => d.external_labels?.sandbox === other && d.external_labels?.iteration,
      ),
    ).toBe(true);
  });

  it("meta-imitation: the server's own metric names", async () => {
    const names = (await lie('meta-imitation')).map((d) => d.metric.name);
    expect(names).toContain('meta_sandbox_presence');
    expect(names).toContain('process_start_time_seconds');
  });

  it('ignore-filter: returns metrics the filter excludes', async () => {
    const d = (await exportData(await sandbox('ignore-filter'), exportReq('^fs_'))).data;
    expect(d.some((e) => !e.metric.name.startsWith('fs_'))).toBe(true);
  });

  it('flapping: good and bad exports alternate', async () => {
    const sb = await sandbox('flapping');
    const bad = async (): Promise<boolean> => (await exportData(sb)).data.some((d) => !REGISTERED.has(d.metric.name));
    expect([await bad(), await bad(), await bad(), await bad()]).toEqual([false, true, false, true]);
  });

  it('setBehaviour switches an honest sandbox to a lie at run time', async () => {
    const sb = await fleet.add();
    expect((await exportData(sb)).data.every((d) => REGISTERED.has(d.metric.name))).toBe(true);
    await sb.setBehaviour('unregistered-metric');
    expect((await exportData(sb)).data.some((d) => !REGISTERED.has(d.metric.name))).toBe(true);
    await expect(sb.setBehaviour('wrong-address')).rejects.toThrow(/create time/);
  });
});
