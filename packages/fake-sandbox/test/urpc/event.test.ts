// containerManager.Event on a fake's control socket: honest answers for the root
// and its subcontainers, and runsc's errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BehaviourName, createFleet, type FakeSandbox, type Fleet } from '../../src/index.js';
import { eventCapture } from '../support/captures.js';
import { call, EXPORT_ALL, openSocket, readReply, shortRoot } from '../support/client.js';

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
