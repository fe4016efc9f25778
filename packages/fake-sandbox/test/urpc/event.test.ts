// containerManager.Event on a fake's control socket: honest answers for the root
// and its subcontainers, runsc's errors, and the event-* misbehaviours (which
// leave Metrics.Export honest, as the Export behaviours leave Event honest).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BehaviourName, createFleet, type FakeSandbox, type Fleet } from '../../src/index.js';
import { eventCapture } from '../support/captures.js';
import { call, EXPORT_ALL, jsonEnd, openSocket, readReply, shortRoot } from '../support/client.js';

const eventReq = (id: string): string => `{"method":"containerManager.Event","arg":${JSON.stringify(id)}}`;
const eventOf = async (sb: FakeSandbox, id: string) => {
  const r = await call(sb.socketPath, eventReq(id));
  expect(r.end).toBe('complete');
  return JSON.parse(r.bytes.toString());
};

// Not `<id>-c2`: runsc's prefix glob would mix a sandbox id with its containers'.
const subOf = (id: string): string => `c2.${id}`;

let fleet: Fleet;
let podSb: FakeSandbox;
const bySb = new Map<string, FakeSandbox>();
const withBehaviour = async (b: BehaviourName): Promise<FakeSandbox> => {
  let sb = bySb.get(b);
  if (!sb) {
    const id = fleet.nextId();
    sb = await fleet.add({ id, behaviour: b, subcontainers: [{ id: subOf(id) }] });
    bySb.set(b, sb);
  }
  return sb;
};

beforeAll(async () => {
  fleet = await createFleet({ root: shortRoot(), metricServer: '/run/ms.sock', seed: 11 });
  podSb = await fleet.add({ id: 'pod-a', subcontainers: [{ id: 'pod-a-c2' }, { id: 'pod-a-c3' }] });
});
afterAll(() => fleet.close());

describe('containerManager.Event, honest', () => {
  it('answers for the root and each subcontainer, with the whole sandbox in containerUsage', async () => {
    for (const id of ['pod-a', 'pod-a-c2', 'pod-a-c3']) {
      const r = (await eventOf(podSb, id)).result;
      expect(r.event.type).toBe('stats');
      expect(r.event.id).toBe(id);
      expect(Object.keys(r.containerUsage)).toEqual(['pod-a', 'pod-a-c2', 'pod-a-c3']);
      expect(r.event.data.network_interfaces.map((i: { Name: string }) => i.Name).sort()).toEqual(['eth0', 'lo']);
    }
  });

  it('CPU of a container never goes down between calls', async () => {
    let prev = 0;
    for (let i = 0; i < 4; i++) {
      const cpu = (await eventOf(podSb, 'pod-a-c2')).result.containerUsage['pod-a-c2'];
      expect(cpu).toBeGreaterThanOrEqual(prev);
      prev = cpu;
      await new Promise((r) => setTimeout(r, 30));
    }
  });

  it("unknown ids and bad arguments get runsc's errors", async () => {
    expect((await call(podSb.socketPath, eventReq('nope'))).bytes.toString()).toBe(
      eventCapture('event-unknown-id.wire.json'),
    );
    // Another sandbox's container is unknown here too.
    const other = await fleet.add();
    expect((await call(podSb.socketPath, eventReq(other.id))).bytes.toString()).toBe(
      `{"success":false,"err":"container \\"${other.id}\\" not found","result":null}`,
    );
    const r = await call(podSb.socketPath, '{"method":"containerManager.Event","arg":5}');
    expect(r.bytes.toString()).toBe(eventCapture('event-arg-number.wire.json'));
  });

  it('several calls on one connection, mixed with exports', async () => {
    const sock = await openSocket(podSb.socketPath);
    try {
      for (const req of [eventReq('pod-a'), EXPORT_ALL, eventReq('pod-a-c3')]) {
        sock.write(req);
        const r = await readReply(sock, 2000);
        expect(r.end).toBe('complete');
        expect(JSON.parse(r.bytes.toString()).success).toBe(true);
      }
    } finally {
      sock.destroy();
    }
  });

  it("a created, never started sandbox answers runsc's created-only shape", async () => {
    const sb = await fleet.add({ autoStart: false });
    const r = (await eventOf(sb, sb.id)).result;
    expect(r.event.data.pids).toEqual({});
    expect(r.event.data.network_interfaces).toBeNull();
    expect(r.containerUsage).toEqual({});
  });

  it('cgroupfs: CPU in cpu.usage.total, containerUsage null', async () => {
    const sb = await fleet.add({ cgroupfs: true });
    const r = (await eventOf(sb, sb.id)).result;
    expect(r.event.data.cpu.usage.total).toBeGreaterThan(0);
    expect(r.containerUsage).toBeNull();
  });

  it('Export misbehaviours leave Event honest', async () => {
    const sb = await withBehaviour('garbage');
    expect((await eventOf(sb, sb.id)).success).toBe(true);
  });
});

describe('containerManager.Event misbehaviours', () => {
  it('event-stall: accepts, reads, never answers Event; Export stays honest', async () => {
    const sb = await withBehaviour('event-stall');
    const r = await call(sb.socketPath, eventReq(sb.id), 500);
    expect(r.end).toBe('timeout');
    expect(r.bytes.length).toBe(0);
    expect(JSON.parse((await call(sb.socketPath, EXPORT_ALL)).bytes.toString()).success).toBe(true);
  });

  it('event-garbage: a reply whose braces balance but which is not JSON', async () => {
    const sb = await withBehaviour('event-garbage');
    const r = await call(sb.socketPath, eventReq(sb.id));
    expect(r.end).toBe('complete');
    expect(jsonEnd(r.bytes)).toBe(r.bytes.length);
    expect(() => JSON.parse(r.bytes.toString())).toThrow();
  });

  it('event-cpu-decrease: CPU goes down from one call to the next', async () => {
    const sb = await withBehaviour('event-cpu-decrease');
    const a = (await eventOf(sb, sb.id)).result.containerUsage[sb.id];
    const b = (await eventOf(sb, sb.id)).result.containerUsage[sb.id];
    expect(b).toBeLessThan(a);
  });

  it("event-foreign-id: event.id is another container's", async () => {
    const sb = await withBehaviour('event-foreign-id');
    expect((await eventOf(sb, sb.id)).result.event.id).toBe(subOf(sb.id));
    expect((await eventOf(sb, subOf(sb.id))).result.event.id).toBe(sb.id);
    // Alone in its sandbox, it names the neighbour sandbox.
    const alone = await fleet.add({ behaviour: 'event-foreign-id', otherSandboxId: 'pod-a' });
    expect((await eventOf(alone, alone.id)).result.event.id).toBe('pod-a');
  });

  it('event-negative: a negative count, then a fraction', async () => {
    const sb = await withBehaviour('event-negative');
    expect((await eventOf(sb, sb.id)).result.event.data.pids.current).toBe(-1);
    const even = await call(sb.socketPath, eventReq(sb.id));
    expect(even.bytes.toString()).toMatch(/"usage":\d+\.5,/);
  });

  it('event-huge: a complete, valid 200 MB reply, streamed', { timeout: 60_000 }, async () => {
    const sb = await withBehaviour('event-huge');
    const sock = await openSocket(sb.socketPath);
    let bytes = 0;
    let head = '';
    let tail: Buffer = Buffer.alloc(0);
    await new Promise<void>((resolve) => {
      sock.on('data', (c: Buffer) => {
        if (head.length < 200) head += c.toString();
        bytes += c.length;
        tail = Buffer.concat([tail, c]).subarray(-600);
        if (tail.toString().endsWith('}}')) resolve();
      });
      sock.write(eventReq(sb.id));
    });
    sock.destroy();
    expect(head.startsWith(`{"success":true,"err":"","result":{"event":{"type":"stats","id":"${sb.id}"`)).toBe(true);
    expect(tail.toString()).toMatch(/\]\}\},"containerUsage":\{"[^"]+":\d+,"[^"]+":\d+\}\}\}$/);
    expect(bytes).toBeGreaterThan(199 * 1024 * 1024);
    expect(bytes).toBeLessThanOrEqual(200 * 1024 * 1024);
    // Export stays honest.
    expect(JSON.parse((await call(sb.socketPath, EXPORT_ALL)).bytes.toString()).success).toBe(true);
  });
});
