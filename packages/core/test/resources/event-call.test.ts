import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  containerEvent,
  DEFAULT_EVENT_MAX_RESPONSE_BYTES,
  eventRequest,
  METHOD_EVENT,
  readEventReply,
} from '../../src/resources/event-call.js';
import { UrpcConnection } from '../../src/urpc/connection.js';
import { UrpcProtocolError, UrpcRemoteError, UrpcTimeout, UrpcTooLarge } from '../../src/urpc/errors.js';
import { eventCapture } from '../support/event-captures.js';
import { type FakeServer, startFakeServer } from '../urpc/fake-server.js';

const servers: FakeServer[] = [];
/** A server that answers every request on a connection with the next of `replies` (the last one repeats). */
async function replay(...replies: string[]): Promise<FakeServer> {
  let n = 0;
  const s = await startFakeServer(({ socket }) => {
    const reply = replies[Math.min(n++, replies.length - 1)]!;
    socket.write(reply);
  });
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const wire = (name: string): string => eventCapture(name);

describe('containerEvent', () => {
  it('sends the request runsc sends and decodes the real reply', async () => {
    const server = await replay(wire('event-idle.wire.json'));
    const ev = await containerEvent(new UrpcConnection(server.path), 'idle01');
    expect(server.connections[0]!.request.toString()).toBe('{"method":"containerManager.Event","arg":"idle01"}');
    expect(ev).toMatchObject({ id: 'idle01', memoryUsageBytes: 2031616, pidsCurrent: 1 });
  });

  it('encodes each id once, as JSON (quotes and backslashes escaped)', () => {
    expect(eventRequest('a"b\\c').toString()).toBe('{"method":"containerManager.Event","arg":"a\\"b\\\\c"}');
    expect(eventRequest('pod01')).toBe(eventRequest('pod01'));
  });

  it('asks every container of a pod, one after the other, on one kept connection', async () => {
    // As runsc's urpc server does: sequential calls on one connection, answered by the asked id.
    const replies: Record<string, string> = {
      pod01: wire('event-pod-root.wire.json'),
      app01: wire('event-pod-sub.wire.json'),
      end01: wire('event-pod-sub-exited.wire.json'),
    };
    const dir = mkdtempSync(join(tmpdir(), 'event-call-'));
    const path = join(dir, 's.sock');
    let connections = 0;
    const server = net.createServer((socket) => {
      connections++;
      socket.on('data', (d) => socket.write(replies[JSON.parse(d.toString()).arg as string]!));
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    try {
      const conn = new UrpcConnection(path, { keep: true });
      const events = [];
      for (const id of ['pod01', 'app01', 'end01']) events.push(await containerEvent(conn, id));
      expect(events.map((e) => [e.id, e.memoryUsageBytes, e.pidsCurrent])).toEqual([
        ['pod01', 0, 1],
        ['app01', 10414080, 1],
        ['end01', 10414080, 0],
      ]);
      expect(connections).toBe(1);
      expect(conn.callsOnSocket).toBe(3);
      conn.close();
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a sandbox answering about another container is a protocol error naming both ids', async () => {
    const server = await replay(wire('event-pod-sub.wire.json'));
    const e = await containerEvent(new UrpcConnection(server.path), 'pod01').catch((err: unknown) => err);
    expect(e).toBeInstanceOf(UrpcProtocolError);
    const why = 'asked for container "pod01", the reply is about container "app01"';
    expect((e as Error).message).toBe(`urpc ${METHOD_EVENT} on ${server.path}: ${why}`);
  });

  it('an unknown container is the sandbox error, verbatim', async () => {
    const server = await replay(wire('event-unknown-id.wire.json'));
    const e = await containerEvent(new UrpcConnection(server.path), 'nope').catch((err: unknown) => err);
    expect(e).toBeInstanceOf(UrpcRemoteError);
    expect((e as UrpcRemoteError).remoteMessage).toBe('container "nope" not found');
  });

  it('a malformed result is a protocol error with the JSON path', async () => {
    const server = await replay(wire('event-idle.wire.json').replace('"current":1', '"current":-1'));
    const e = await containerEvent(new UrpcConnection(server.path), 'idle01').catch((err: unknown) => err);
    expect(e).toBeInstanceOf(UrpcProtocolError);
    expect((e as Error).message).toMatch(
      /result does not have the expected shape at \$\.result\.event\.data\.pids\.current: .*negative/,
    );
    const garbage = await replay('{"success":true,"err":"","result":{"event":[]}}');
    await expect(containerEvent(new UrpcConnection(garbage.path), 'x')).rejects.toBeInstanceOf(UrpcProtocolError);
    const notJson = await replay('{"success":tru}');
    await expect(containerEvent(new UrpcConnection(notJson.path), 'x')).rejects.toBeInstanceOf(UrpcProtocolError);
  });

  it('caps the reply at 1 MiB by default, or at maxResponseBytes', async () => {
    expect(DEFAULT_EVENT_MAX_RESPONSE_BYTES).toBe(1024 * 1024);
    const huge = `{"success":true,"err":"","result":{"pad":"${'x'.repeat(DEFAULT_EVENT_MAX_RESPONSE_BYTES)}"}}`;
    const server = await replay(huge);
    await expect(containerEvent(new UrpcConnection(server.path), 'idle01')).rejects.toBeInstanceOf(UrpcTooLarge);
    const small = await replay(wire('event-idle.wire.json'));
    const e = await containerEvent(new UrpcConnection(small.path), 'idle01', { maxResponseBytes: 100 }).catch(
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(UrpcTooLarge);
    expect((e as UrpcTooLarge).limit).toBe(100);
  });

  it('honours timeoutMs and cut', async () => {
    const silent = await startFakeServer(() => undefined);
    servers.push(silent);
    await expect(containerEvent(new UrpcConnection(silent.path), 'idle01', { timeoutMs: 50 })).rejects.toBeInstanceOf(
      UrpcTimeout,
    );
    const cut = { isCut: true, cutReason: new Error('scrape over'), onCut: () => undefined, offCut: () => undefined };
    const e = await containerEvent(new UrpcConnection(silent.path), 'idle01', { cut }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(UrpcTimeout);
    expect((e as Error).message).toMatch(/scrape over/);
  });
});

describe('readEventReply', () => {
  it('reads a reply synchronously, from a view of a larger buffer', () => {
    const text = wire('event-busy.wire.json');
    const bytes = Buffer.concat([Buffer.from(text), Buffer.from('garbage after the reply')]);
    const ev = readEventReply(
      { socketPath: '/s', containerId: 'busy01' },
      { bytes, length: Buffer.byteLength(text), needsLossless: false },
    );
    expect(ev.containerUsage!.get('busy01')).toBe(3280000000);
  });
});
