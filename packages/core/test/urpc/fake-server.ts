// A tiny urpc server for tests: listens on a unix socket in a fresh tmp dir,
// collects each connection's request bytes until they parse as JSON, then
// hands the socket to the test's responder. Records when the server side sees
// each connection close (to prove the client destroyed it).
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Connection {
  readonly socket: net.Socket;
  readonly request: Buffer;
  /** Resolves when the server side of the connection has closed. */
  readonly closed: Promise<void>;
}

export type Responder = (conn: Connection) => void | Promise<void>;

export interface FakeServer {
  readonly dir: string;
  readonly path: string;
  readonly connections: Connection[];
  close(): Promise<void>;
}

export function makeTmpDir(): string {
  return mkdtempSync(join(tmpdir(), 'urpc-test-'));
}

export async function startFakeServer(respond: Responder, dir = makeTmpDir(), name = 's.sock'): Promise<FakeServer> {
  const path = join(dir, name);
  const connections: Connection[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => {
      // the client destroying its end mid-write is expected in these tests
    });
    const parts: Buffer[] = [];
    let answered = false;
    socket.on('data', (chunk: Buffer) => {
      if (answered) return;
      parts.push(chunk);
      const request = Buffer.concat(parts);
      try {
        JSON.parse(request.toString('utf8'));
      } catch {
        return; // not complete yet
      }
      answered = true;
      const conn: Connection = { socket, request, closed };
      connections.push(conn);
      void respond(conn);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  return {
    dir,
    path,
    connections,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Writes `bytes` in pieces of `size` bytes, yielding to the event loop between them. */
export async function writeInPieces(socket: net.Socket, bytes: Buffer, size: number, delayMs = 0): Promise<void> {
  for (let i = 0; i < bytes.length; i += size) {
    if (socket.destroyed) return;
    socket.write(bytes.subarray(i, i + size));
    await new Promise((r) => setTimeout(r, delayMs));
  }
}
