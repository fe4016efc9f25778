// A kept connection carries sequential calls, as runsc's urpc server allows; it is
// dropped on any failure and on anything the sandbox sends between calls, a call that
// finds its reused connection closed is retried once on a fresh one, and the budget
// bounds how many kept connections are open.
import { rmSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  callUrpcWith,
  exportMetrics,
  exportRequest,
  METHOD_EXPORT,
  UrpcClosedError,
  UrpcConnection,
  UrpcConnectionBudget,
  UrpcProtocolError,
  UrpcTimeout,
} from '../../src/urpc/index.js';
import { makeTmpDir } from './fake-server.js';

/** What the server does with the n-th request (0-based) of a connection (per connection `c`). */
type Answer = (socket: net.Socket, n: number, c: number) => void;

interface MultiServer {
  readonly path: string;
  /** Per connection: requests seen, and whether the server side has closed. */
  readonly conns: { requests: string[]; closed: boolean }[];
  close(): Promise<void>;
}

const servers: MultiServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

const OK = (v: number): string => `{"success":true,"err":"","result":${v}}`;
const text = (r: { bytes: Buffer; length: number }): string => r.bytes.toString('utf8', 0, r.length);

/** A urpc server that reads requests one after another on each connection (each request is one `{...}` with no nesting). */
async function multiServer(answer: Answer): Promise<MultiServer> {
  const dir = makeTmpDir();
  const path = join(dir, 'm.sock');
  const conns: MultiServer['conns'] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    const c = conns.length;
    const rec = { requests: [] as string[], closed: false };
    conns.push(rec);
    socket.on('close', () => {
      rec.closed = true;
      sockets.delete(socket);
    });
    socket.on('error', () => {});
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      for (;;) {
        // Requests here are `{"method":…,"arg":…}` with a flat or one-level arg: end at the balanced brace.
        let depth = 0;
        let end = -1;
        for (let i = 0; i < pending.length; i++) {
          if (pending[i] === '{') depth++;
          else if (pending[i] === '}' && --depth === 0) {
            end = i + 1;
            break;
          }
        }
        if (end < 0) return;
        rec.requests.push(pending.slice(0, end));
        pending = pending.slice(end);
        answer(socket, rec.requests.length - 1, c);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(path, () => resolve()));
  const s: MultiServer = {
    path,
    conns,
    close: async () => {
      for (const sock of sockets) sock.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  servers.push(s);
  return s;
}

const until = async (cond: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(cond()).toBe(true);
};

describe('UrpcConnection', () => {
  it('carries sequential calls on one kept connection', async () => {
    const server = await multiServer((socket, n) => void socket.write(OK(n)));
    const conn = new UrpcConnection(server.path, { keep: true });
    for (let i = 0; i < 3; i++) expect(await conn.call('M.N', { i }, text)).toBe(OK(i));
    expect(server.conns).toHaveLength(1);
    expect(server.conns[0]!.requests).toEqual([0, 1, 2].map((i) => `{"method":"M.N","arg":{"i":${i}}}`));
    expect(conn.callsOnSocket).toBe(3);
    expect(conn.isOpen).toBe(true);
    conn.close();
    await until(() => server.conns[0]!.closed);
    expect(conn.isOpen).toBe(false);
  });

  it('closes a one-shot connection after its call (callUrpcWith, and a connection made without keep)', async () => {
    const server = await multiServer((socket, n) => void socket.write(OK(n)));
    expect(await callUrpcWith(server.path, 'M.N', null, text)).toBe(OK(0));
    const conn = new UrpcConnection(server.path);
    expect(await conn.call('M.N', null, text)).toBe(OK(0));
    expect(await conn.call('M.N', null, text)).toBe(OK(0));
    expect(server.conns).toHaveLength(3);
    await until(() => server.conns.every((c) => c.closed));
  });

  it('drops an idle connection the sandbox writes to, and the next call opens a fresh one', async () => {
    const server = await multiServer((socket, n) => {
      socket.write(OK(n));
      if (n === 0) setTimeout(() => socket.write('{"unasked":1}'), 20);
    });
    const conn = new UrpcConnection(server.path, { keep: true });
    expect(await conn.call('M.N', null, text)).toBe(OK(0));
    await until(() => server.conns[0]!.closed);
    expect(conn.isOpen).toBe(false);
    expect(await conn.call('M.N', null, text)).toBe(OK(0)); // request 0 of the new connection
    expect(server.conns).toHaveLength(2);
  });

  it('notices the sandbox closing an idle connection and reconnects for the next call', async () => {
    const server = await multiServer((socket, n) => void socket.end(OK(n)));
    const conn = new UrpcConnection(server.path, { keep: true });
    expect(await conn.call('M.N', null, text)).toBe(OK(0));
    await until(() => !conn.isOpen);
    expect(await conn.call('M.N', null, text)).toBe(OK(0));
    expect(server.conns).toHaveLength(2);
  });

  it('retries once, fresh, when a reused connection closes before any reply byte', async () => {
    // Each connection answers its first request only and closes on the second.
    const server = await multiServer((socket, n) => (n === 0 ? void socket.write(OK(n)) : void socket.destroy()));
    const conn = new UrpcConnection(server.path, { keep: true });
    expect(await conn.call('M.N', null, text)).toBe(OK(0));
    expect(await conn.call('M.N', null, text)).toBe(OK(0)); // answered by a second connection
    expect(server.conns.map((c) => c.requests.length)).toEqual([2, 1]);
  });

  it('never retries a fresh connection, nor one that had started to answer', async () => {
    const silent = await multiServer((socket) => void socket.destroy());
    const conn = new UrpcConnection(silent.path, { keep: true });
    await expect(conn.call('M.N', null, text)).rejects.toBeInstanceOf(UrpcClosedError);
    expect(silent.conns).toHaveLength(1);

    const partial = await multiServer((socket, n) =>
      n === 0 ? void socket.write(OK(n)) : void socket.end('{"success":tr'),
    );
    const kept = new UrpcConnection(partial.path, { keep: true });
    expect(await kept.call('M.N', null, text)).toBe(OK(0));
    const e = await kept.call('M.N', null, text).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UrpcClosedError);
    expect((e as Error).message).toMatch(/after 13 response bytes/);
    expect(partial.conns).toHaveLength(1);
  });

  it('drops a kept connection on a timeout and on bytes after the reply', async () => {
    const server = await multiServer((socket, n, c) => {
      if (c === 0 && n === 1) return; // stalls
      if (c === 1 && n === 1) return void socket.write(`${OK(n)}{"more":1}`);
      socket.write(OK(n));
    });
    const conn = new UrpcConnection(server.path, { keep: true });
    expect(await conn.call('M.N', null, text)).toBe(OK(0));
    await expect(conn.call('M.N', null, text, { timeoutMs: 50 })).rejects.toBeInstanceOf(UrpcTimeout);
    await until(() => server.conns[0]!.closed);
    expect(await conn.call('M.N', null, text)).toBe(OK(0));
    const e = await conn.call('M.N', null, text).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UrpcProtocolError);
    await until(() => server.conns[1]!.closed);
    expect(conn.isOpen).toBe(false);
  });

  it('runs one call at a time', async () => {
    const server = await multiServer((socket, n) => void setTimeout(() => socket.write(OK(n)), 30));
    const conn = new UrpcConnection(server.path, { keep: true });
    const first = conn.call('M.N', null, text);
    await expect(conn.call('M.N', null, text)).rejects.toThrow(/already running on this connection/);
    expect(await first).toBe(OK(0));
    expect(await conn.call('M.N', null, text)).toBe(OK(1));
  });

  it('arms no timer of its own under a bounded cut given no timeoutMs', async () => {
    const server = await multiServer(() => {});
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const cutter = (bounded: boolean) => {
      const cbs = new Set<(r: unknown) => void>();
      return {
        isCut: false,
        cutReason: undefined,
        bounded,
        onCut: (cb: (r: unknown) => void) => void cbs.add(cb),
        offCut: (cb: (r: unknown) => void) => void cbs.delete(cb),
        fire: () => {
          for (const cb of cbs) cb(new Error('cut'));
        },
      };
    };
    const before = timers();
    const bounded = cutter(true);
    const a = new UrpcConnection(server.path, { keep: true }).call('M.N', null, text, { cut: bounded });
    expect(timers()).toBe(before);
    const loose = cutter(false);
    const b = new UrpcConnection(server.path, { keep: true }).call('M.N', null, text, { cut: loose });
    expect(timers()).toBe(before + 1);
    bounded.fire();
    loose.fire();
    await expect(a).rejects.toBeInstanceOf(UrpcTimeout);
    await expect(b).rejects.toBeInstanceOf(UrpcTimeout);
    expect(timers()).toBe(before);
  });

  it('fails a call in flight when its owner closes the connection', async () => {
    const server = await multiServer(() => {});
    const conn = new UrpcConnection(server.path, { keep: true });
    const call = conn.call('M.N', null, text);
    await until(() => server.conns.length === 1 && server.conns[0]!.requests.length === 1);
    conn.close();
    await expect(call).rejects.toThrow(/closed by its owner/);
    await until(() => server.conns[0]!.closed);
  });

  it('exportMetrics calls on the connection it is given', async () => {
    const reply =
      '{"success":true,"err":"","result":{"snapshot":{"when":"2026-01-01T00:00:00Z","data":[{"metric":{"name":"a","type":2,"help":"h"},"val":{"int":3}}]}}}';
    const server = await multiServer((socket) => void socket.write(reply));
    const conn = new UrpcConnection(server.path, { keep: true });
    for (let i = 0; i < 2; i++) {
      const snap = await exportMetrics('/not/used', '', { connection: conn });
      expect(snap.data.map((d) => d.metric.name)).toEqual(['a']);
    }
    expect(server.conns).toHaveLength(1);
    // A call's consumer runs on the reply inside the read: its result is the call's, its throw fails the call.
    const seen: number[] = [];
    const got = await conn.call(
      METHOD_EXPORT,
      undefined,
      (r) => {
        seen.push(r.length);
        return r.length;
      },
      { request: exportRequest('') },
    );
    expect(seen).toEqual([got]);
    const lie = new Error('does not verify');
    await expect(
      conn.call(
        METHOD_EXPORT,
        undefined,
        () => {
          throw lie;
        },
        { request: exportRequest('') },
      ),
    ).rejects.toBe(lie);
    expect(conn.isOpen).toBe(false); // a failed call drops the connection
  });
});

describe('UrpcConnectionBudget', () => {
  it('keeps at most its limit open, closing the idle one used longest ago', async () => {
    const fleet = await Promise.all([0, 1, 2].map(() => multiServer((socket, n) => void socket.write(OK(n)))));
    const budget = new UrpcConnectionBudget(2);
    const conns = fleet.map((s) => new UrpcConnection(s.path, { keep: true, budget }));
    await conns[0]!.call('M.N', null, text);
    await conns[1]!.call('M.N', null, text);
    await conns[0]!.call('M.N', null, text); // 0 is now the most recently used
    expect(budget.openCount).toBe(2);
    await conns[2]!.call('M.N', null, text); // room is made by closing 1
    expect(budget.openCount).toBe(2);
    expect(conns.map((c) => c.isOpen)).toEqual([true, false, true]);
    await until(() => fleet[1]!.conns[0]!.closed);
    // A failed call gives its place back.
    await fleet[0]!.close();
    conns[0]!.close();
    expect(budget.openCount).toBe(1);
  });

  it('keeps nothing open while keepIdle is off', async () => {
    const server = await multiServer((socket, n) => void socket.write(OK(n)));
    const budget = new UrpcConnectionBudget(4);
    budget.keepIdle = false;
    const conn = new UrpcConnection(server.path, { keep: true, budget });
    await conn.call('M.N', null, text);
    expect(conn.isOpen).toBe(false);
    expect(budget.openCount).toBe(0);
    budget.keepIdle = true;
    await conn.call('M.N', null, text);
    expect(conn.isOpen).toBe(true);
    expect(server.conns).toHaveLength(2);
  });

  it('counts a connection out when the sandbox closes it', async () => {
    const server = await multiServer((socket, n) => void socket.end(OK(n)));
    const budget = new UrpcConnectionBudget(4);
    const conn = new UrpcConnection(server.path, { keep: true, budget });
    await conn.call('M.N', null, text);
    await until(() => budget.openCount === 0);
  });
});
