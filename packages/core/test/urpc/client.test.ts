import { linkSync, mkdirSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';
import koffi from 'koffi';
import { afterEach, describe, expect, it } from 'vitest';
import { readCaptureBytes } from '../../../../test-support/captures.js';
import {
  type CallCut,
  callUrpc,
  callUrpcWith,
  encodeUrpcRequest,
  UrpcClosedError,
  UrpcConnectError,
  type UrpcError,
  UrpcProtocolError,
  UrpcRemoteError,
  type UrpcReply,
  UrpcTimeout,
  UrpcTooLarge,
} from '../../src/urpc/index.js';
import { type FakeServer, makeTmpDir, startFakeServer, writeInPieces } from './fake-server.js';

const fixture = (name: string): Buffer => readCaptureBytes(name);

const servers: FakeServer[] = [];
async function serve(...args: Parameters<typeof startFakeServer>): Promise<FakeServer> {
  const s = await startFakeServer(...args);
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function expectUrpcError<T extends UrpcError>(
  p: Promise<unknown>,
  cls: abstract new (...a: never[]) => T,
): Promise<T> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(cls);
  return e as T;
}

describe('encodeUrpcRequest', () => {
  it('produces the exact bytes runsc sends', () => {
    expect(encodeUrpcRequest('Metrics.Export', { only_metrics: '^fs_' }).toString()).toBe(
      '{"method":"Metrics.Export","arg":{"only_metrics":"^fs_"}}',
    );
    expect(encodeUrpcRequest('Metrics.GetRegisteredMetrics', null).toString()).toBe(
      '{"method":"Metrics.GetRegisteredMetrics","arg":null}',
    );
    expect(encodeUrpcRequest('X.Y', undefined).toString()).toBe('{"method":"X.Y","arg":null}');
  });
});

describe('callUrpc', () => {
  // Every call reads into one shared buffer: replies read in many pieces, interleaved
  // across concurrent calls, must each come back whole and unmixed.
  it('keeps 40 concurrent replies apart, read in interleaved pieces, big and small', async () => {
    const calls = Array.from({ length: 40 }, (_, i) => {
      const filler = String.fromCharCode(97 + (i % 26)).repeat(i % 3 === 0 ? 150_000 + i : 50 + i);
      const wire = Buffer.from(JSON.stringify({ success: true, err: '', result: { id: i, filler } }));
      return { i, wire, filler };
    });
    const results = await Promise.all(
      calls.map(async ({ i, wire }) => {
        const server = await serve(({ socket }) => writeInPieces(socket, wire, 7_000 + i * 13, i % 4));
        return callUrpc(server.path, 'M.N', null);
      }),
    );
    for (const [i, r] of results.entries()) expect(r).toEqual({ id: i, filler: calls[i]!.filler });
  });

  it('callUrpcWith hands take the exact reply bytes, and rejects with what take throws', async () => {
    const wire = '{"success":true,"err":"","result":[1,2,3]}';
    const server = await serve(({ socket }) => void socket.write(`${wire}\n`));
    const seen = await callUrpcWith(server.path, 'M.N', null, (r) => r.bytes.toString('utf8', 0, r.length));
    expect(seen).toBe(wire);
    const boom = new Error('cannot take it');
    const server2 = await serve(({ socket }) => void socket.write(wire));
    await expect(
      callUrpcWith(server2.path, 'M.N', null, () => {
        throw boom;
      }),
    ).rejects.toBe(boom);
    await server2.connections[0]!.closed;
  });

  it('replays the real captured response and returns its result', async () => {
    const wire = fixture('export-metrics-filtered.wire.json');
    const server = await serve(({ socket }) => void socket.write(wire));
    const result = (await callUrpc(server.path, 'Metrics.Export', { only_metrics: '^fs_' })) as {
      snapshot: { when: string; data: unknown[] };
    };
    expect(server.connections[0]!.request.toString()).toBe('{"method":"Metrics.Export","arg":{"only_metrics":"^fs_"}}');
    expect(result.snapshot.when).toBe('2026-11-27T22:48:05.337292709Z');
    expect(result.snapshot.data).toHaveLength(2);
    await server.connections[0]!.closed; // one call per connection: the client closes
  });

  it('reassembles a response written one byte at a time, with braces and escaped quotes inside strings', async () => {
    const body = '{"success":true,"err":"","result":{"s":"}]{[\\"}\\\\","t":"é}"}}';
    const server = await serve(({ socket }) => writeInPieces(socket, Buffer.from(body), 1, 1));
    const result = await callUrpc(server.path, 'M.N', null);
    expect(result).toEqual({ s: '}]{["}\\', t: 'é}' });
  });

  it('reassembles the real 48 KB registration reply split into odd pieces', async () => {
    const wire = fixture('registered-metrics.wire.json');
    const server = await serve(({ socket }) => writeInPieces(socket, wire, 997));
    const result = (await callUrpc(server.path, 'Metrics.GetRegisteredMetrics', null)) as {
      RegisteredMetrics: { metrics: unknown[] };
    };
    expect(result.RegisteredMetrics.metrics).toHaveLength(174);
  });

  it('keeps integers beyond 2^53 exact', async () => {
    const server = await serve(
      ({ socket }) => void socket.write('{"success":true,"err":"","result":{"int":9223372036854775807}}'),
    );
    expect(await callUrpc(server.path, 'M.N', null)).toEqual({ int: 9223372036854775807n });
  });

  it("turns success:false into UrpcRemoteError with runsc's message", async () => {
    const wire =
      '{"success":false,"err":"cannot compile regexp \\"(\\": error parsing regexp: missing closing ): `(`","result":null}';
    const server = await serve(({ socket }) => void socket.write(wire));
    const e = await expectUrpcError(callUrpc(server.path, 'Metrics.Export', { only_metrics: '(' }), UrpcRemoteError);
    expect(e.kind).toBe('remote');
    expect(e.remoteMessage).toBe('cannot compile regexp "(": error parsing regexp: missing closing ): `(`');
    expect(e.message).toContain(server.path);
  });

  it('fails fast on garbage and closes the connection', async () => {
    const server = await serve(({ socket }) => void socket.write('hello, this is not urpc'));
    const e = await expectUrpcError(callUrpc(server.path, 'M.N', null, { timeoutMs: 10_000 }), UrpcProtocolError);
    expect(e.message).toMatch(/does not start with a JSON object/);
    await server.connections[0]!.closed;
  });

  it('rejects a balanced but malformed JSON response', async () => {
    const server = await serve(({ socket }) => void socket.write('{"success":tru}'));
    const e = await expectUrpcError(callUrpc(server.path, 'M.N', null), UrpcProtocolError);
    expect(e.message).toMatch(/malformed JSON/);
  });

  it('rejects a response without the urpc envelope', async () => {
    const server = await serve(({ socket }) => void socket.write('{"ok":true}'));
    await expectUrpcError(callUrpc(server.path, 'M.N', null), UrpcProtocolError);
  });

  it('rejects non-whitespace bytes received after the response object', async () => {
    const server = await serve(({ socket }) => void socket.write('{"success":true,"err":"","result":1}{"x":1}'));
    const e = await expectUrpcError(callUrpc(server.path, 'M.N', null), UrpcProtocolError);
    expect(e.message).toMatch(/after the response object/);
  });

  it('accepts trailing whitespace after the response object', async () => {
    const server = await serve(({ socket }) => void socket.write('{"success":true,"err":"","result":1}\n'));
    expect(await callUrpc(server.path, 'M.N', null)).toBe(1);
  });

  it('reports an early close after half a response as UrpcClosedError', async () => {
    const server = await serve(({ socket }) => void socket.end('{"success":true,"err":"","resu'));
    const e = await expectUrpcError(callUrpc(server.path, 'M.N', null), UrpcClosedError);
    expect(e.kind).toBe('closed');
    expect(e.message).toMatch(/30 response bytes/);
  });

  it('reports a close without any response (malformed request, unencodable result) as UrpcClosedError', async () => {
    const server = await serve(({ socket }) => void socket.end());
    await expectUrpcError(callUrpc(server.path, 'M.N', null), UrpcClosedError);
  });

  it('destroys the socket when the response exceeds maxResponseBytes', async () => {
    const server = await serve(async ({ socket }) => {
      socket.write('{"success":true,"err":"","result":"');
      const junk = Buffer.alloc(16 * 1024, 0x61);
      while (!socket.destroyed && socket.writable) {
        if (!socket.write(junk)) await new Promise((r) => setTimeout(r, 1));
      }
    });
    const e = await expectUrpcError(callUrpc(server.path, 'M.N', null, { maxResponseBytes: 100_000 }), UrpcTooLarge);
    expect(e.limit).toBe(100_000);
    expect(e.kind).toBe('too-large');
    await server.connections[0]!.closed; // the sandbox sees the connection go away
  });

  it('hits the deadline of a stalled call quickly and closes the socket', async () => {
    const server = await serve(() => {
      // never answer
    });
    const started = performance.now();
    const e = await expectUrpcError(callUrpc(server.path, 'M.N', null, { timeoutMs: 150 }), UrpcTimeout);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(3_000);
    expect(e.kind).toBe('timeout');
    await server.connections[0]!.closed;
  });

  it('stops a stalled call when its AbortSignal fires, and closes the socket', async () => {
    const server = await serve(({ socket }) => void socket.write('{"success":true,'));
    const ac = new AbortController();
    const p = callUrpc(server.path, 'M.N', null, { signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    const e = await expectUrpcError(p, UrpcTimeout);
    expect(e.message).toMatch(/aborted/);
    await server.connections[0]!.closed;
  });

  it('a call cut while connecting sends the sandbox no request', async () => {
    const dir = makeTmpDir();
    const path = join(dir, 'raw.sock');
    const received: number[] = [];
    const closed: Promise<void>[] = [];
    const srv = net.createServer((socket) => {
      let n = 0;
      socket.on('data', (c) => (n += c.length));
      socket.on('error', () => {});
      closed.push(new Promise((r) => socket.on('close', () => r(received.push(n) as unknown as undefined))));
    });
    await new Promise<void>((r) => srv.listen(path, () => r()));
    try {
      const ac = new AbortController();
      const p = callUrpc(path, 'M.N', null, { signal: ac.signal });
      ac.abort(); // before the connect event
      await expectUrpcError(p, UrpcTimeout);
      await new Promise((r) => setTimeout(r, 200));
      await Promise.all(closed);
      expect(received).toEqual(closed.map(() => 0));
    } finally {
      await new Promise<void>((r) => srv.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('honours AbortSignal.timeout', async () => {
    const server = await serve(() => {});
    const e = await expectUrpcError(
      callUrpc(server.path, 'M.N', null, { signal: AbortSignal.timeout(100) }),
      UrpcTimeout,
    );
    expect(e.message).toMatch(/deadline exceeded/);
    await server.connections[0]!.closed;
  });

  it('does not connect at all with an already aborted signal', async () => {
    const server = await serve(() => {});
    const ac = new AbortController();
    ac.abort();
    await expectUrpcError(callUrpc(server.path, 'M.N', null, { signal: ac.signal }), UrpcTimeout);
    await new Promise((r) => setTimeout(r, 50));
    expect(server.connections).toHaveLength(0);
  });

  describe('takeWhole (no end-of-object scan for a reply its caller can prove whole)', () => {
    const OBJ = '{"success":true,"err":"","result":7}';
    /** Accepts exactly OBJ, as a strict grammar would. */
    const exact =
      (calls: number[]) =>
      (bytes: Buffer, length: number): number | undefined => {
        calls.push(length);
        return bytes.toString('latin1', 0, length) === OBJ ? 42 : undefined;
      };
    const takeCalls: { length: number; wholeDeclined: boolean | undefined }[] = [];
    const take = (r: UrpcReply): number => {
      takeCalls.push({ length: r.length, wholeDeclined: r.wholeDeclined });
      return 1;
    };

    it('takes a reply that arrives in one read, trailing whitespace included, without calling take', async () => {
      takeCalls.length = 0;
      const calls: number[] = [];
      const server = await serve(({ socket }) => void socket.write(`${OBJ}\n`));
      expect(await callUrpcWith(server.path, 'M.N', null, take, { takeWhole: exact(calls) })).toBe(42);
      expect(calls).toEqual([OBJ.length]);
      expect(takeCalls).toEqual([]);
      await server.connections[0]!.closed;
    });

    it('a declined reply goes through the scanner to take, which learns that these very bytes were declined', async () => {
      takeCalls.length = 0;
      const calls: number[] = [];
      const other = '{"success":true,"err":"","result":8}';
      const server = await serve(({ socket }) => void socket.write(other));
      expect(await callUrpcWith(server.path, 'M.N', null, take, { takeWhole: exact(calls) })).toBe(1);
      expect(calls).toEqual([other.length]);
      expect(takeCalls).toEqual([{ length: other.length, wholeDeclined: true }]);
    });

    it('is tried on the first read only; a reply in pieces reaches take as a whole, not declined', async () => {
      takeCalls.length = 0;
      const calls: number[] = [];
      const server = await serve(({ socket }) => writeInPieces(socket, Buffer.from(OBJ), 10, 20));
      expect(await callUrpcWith(server.path, 'M.N', null, take, { takeWhole: exact(calls) })).toBe(1);
      expect(calls.length).toBeLessThanOrEqual(1); // a first piece ending in `}` would be offered, and declined
      expect(takeCalls).toEqual([{ length: OBJ.length, wholeDeclined: false }]);
    });

    it('never judges a later read on its own: a whole-looking second read after a partial first one is not taken', async () => {
      const calls: number[] = [];
      const server = await serve(async ({ socket }) => {
        socket.write('{"success":');
        await new Promise((r) => setTimeout(r, 30));
        socket.end(OBJ);
      });
      await expectUrpcError(callUrpcWith(server.path, 'M.N', null, take, { takeWhole: exact(calls) }), UrpcClosedError);
      expect(calls).toEqual([]);
    });

    it('leaves data after the object to the scanner: still a protocol error', async () => {
      const calls: number[] = [];
      const server = await serve(({ socket }) => void socket.write(`${OBJ}x`));
      await expectUrpcError(
        callUrpcWith(server.path, 'M.N', null, take, { takeWhole: exact(calls) }),
        UrpcProtocolError,
      );
      expect(calls).toEqual([]);
    });

    it('a throw from it fails the call with that error and closes the socket', async () => {
      const server = await serve(({ socket }) => void socket.write(OBJ));
      const boom = new Error('metric x violated the filter');
      await expect(
        callUrpcWith(server.path, 'M.N', null, take, {
          takeWhole: () => {
            throw boom;
          },
        }),
      ).rejects.toBe(boom);
      await server.connections[0]!.closed;
    });
  });

  it('a shared CallCut stops every call registered with it, with its reason, and forgets finished ones', async () => {
    const stalled = await serve(({ socket }) => void socket.write('{"success":true,'));
    const answering = await serve(({ socket }) => void socket.write('{"success":true,"err":"","result":1}'));
    const cut = new TestCut();
    const done = await callUrpc(answering.path, 'M.N', null, { cut });
    expect(done).toBe(1);
    expect(cut.callbacks.size).toBe(0); // a finished call leaves no callback behind
    const calls = [callUrpc(stalled.path, 'M.N', null, { cut }), callUrpc(stalled.path, 'M.N', null, { cut })];
    await new Promise((r) => setTimeout(r, 50));
    expect(cut.callbacks.size).toBe(2);
    cut.cut(new Error('per-sandbox deadline of 50 ms'));
    for (const p of calls)
      expect((await expectUrpcError(p, UrpcTimeout)).message).toMatch(
        /call aborted after 16 response bytes: per-sandbox deadline of 50 ms/,
      );
    await Promise.all(stalled.connections.map((c) => c.closed));
    expect(cut.callbacks.size).toBe(0);
    // Already cut: no connection at all.
    await expectUrpcError(callUrpc(stalled.path, 'M.N', null, { cut }), UrpcTimeout);
    await new Promise((r) => setTimeout(r, 50));
    expect(stalled.connections).toHaveLength(2);
  });

  it('connects through /proc/self/fd for socket paths of 108 bytes or more', async () => {
    const dir = makeTmpDir();
    const deep = join(dir, 'a'.repeat(60), 'b'.repeat(60));
    mkdirSync(deep, { recursive: true });
    // Bind on a short path, then give the socket inode a long name (libuv cannot bind it directly).
    const server = await serve(({ socket }) => void socket.write('{"success":true,"err":"","result":"long"}'), dir);
    const longPath = join(deep, 'control.sock');
    linkSync(server.path, longPath);
    expect(Buffer.byteLength(longPath)).toBeGreaterThanOrEqual(120);
    expect(await callUrpc(longPath, 'M.N', null)).toBe('long');
  });

  it('reports a missing long socket path as UrpcConnectError ENOENT', async () => {
    const longPath = join(makeTmpDir(), 'x'.repeat(130), 'control.sock');
    const e = await expectUrpcError(callUrpc(longPath, 'M.N', null), UrpcConnectError);
    expect(e.code).toBe('ENOENT');
  });

  it('reports a missing socket as UrpcConnectError ENOENT', async () => {
    const dir = makeTmpDir();
    const e = await expectUrpcError(callUrpc(join(dir, 'none.sock'), 'M.N', null), UrpcConnectError);
    expect(e.code).toBe('ENOENT');
    expect(e.kind).toBe('connect');
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports a socket nobody listens on as UrpcConnectError ECONNREFUSED', async () => {
    const dir = makeTmpDir();
    const path = join(dir, 'live.sock');
    const dead = join(dir, 'dead.sock');
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(path, () => r()));
    linkSync(path, dead); // a second name for the socket inode survives the server
    await new Promise<void>((r) => srv.close(() => r()));
    const e = await expectUrpcError(callUrpc(dead, 'M.N', null), UrpcConnectError);
    expect(e.code).toBe('ECONNREFUSED');
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports a full listen backlog (sandbox not accepting) as UrpcConnectError EAGAIN at once, without retrying', async () => {
    // A listening socket that never accepts, made with libc directly (a node server always accepts).
    const libc = koffi.load('libc.so.6');
    const socketFn = libc.func('int socket(int, int, int)');
    const bindFn = libc.func('int bind(int, const void *, uint32_t)');
    const listenFn = libc.func('int listen(int, int)');
    const closeFn = libc.func('int close(int)');
    const dir = makeTmpDir();
    const path = join(dir, 'full.sock');
    const fd = socketFn(1 /* AF_UNIX */, 1 /* SOCK_STREAM */, 0) as number;
    const filler: net.Socket[] = [];
    try {
      const addr = Buffer.alloc(110);
      addr.writeUInt16LE(1, 0);
      addr.write(path, 2);
      expect(bindFn(fd, addr, addr.length)).toBe(0);
      expect(listenFn(fd, 0)).toBe(0);
      // Fill the backlog until the kernel refuses with EAGAIN.
      for (let i = 0; i < 8; i++) {
        const s = net.createConnection({ path });
        filler.push(s);
        const r = await new Promise<string>((res) => {
          s.on('connect', () => res('connected'));
          s.on('error', (e: NodeJS.ErrnoException) => res(e.code ?? 'error'));
        });
        if (r === 'EAGAIN') break;
      }
      const started = performance.now();
      const e = await expectUrpcError(callUrpc(path, 'M.N', null, { timeoutMs: 20_000 }), UrpcConnectError);
      expect(e.code).toBe('EAGAIN');
      expect(performance.now() - started).toBeLessThan(5_000);
    } finally {
      for (const s of filler) s.destroy();
      closeFn(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A CallCut for tests: records its callbacks. */
class TestCut implements CallCut {
  readonly callbacks = new Set<(reason: unknown) => void>();
  isCut = false;
  cutReason: unknown;
  onCut(cb: (reason: unknown) => void): void {
    this.callbacks.add(cb);
  }
  offCut(cb: (reason: unknown) => void): void {
    this.callbacks.delete(cb);
  }
  cut(reason: unknown): void {
    this.isCut = true;
    this.cutReason = reason;
    for (const cb of [...this.callbacks]) cb(reason);
  }
}
