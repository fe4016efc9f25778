// Binding the listener: TCP (host:port, :port) or a unix socket path we own.
// Ownership rule (an improvement over Go, which fails on any existing file):
// a socket file we create is ours (chmod 0777, removed on shutdown); an existing
// live socket (connect succeeds) is someone else's and we refuse; a stale one
// (ECONNREFUSED: its server died) is unlinked, taken over and then owned.

import { promises as fsp, statSync, unlinkSync } from 'node:fs';
import type { Server } from 'node:http';
// Socket files are only ever stat'ed with { bigint: true } (or async): on Node 20 a plain
// synchronous stat of a socket makes later CommonJS resolution skip realpath, so a
// pnpm-symlinked koffi then fails to find its native module (flock unavailable).
import net from 'node:net';
import type { Logger } from './log.js';

export class BindError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BindError';
  }
}

export interface Bound {
  /** What to show operators: `host:port` with the real port, or the socket path. */
  readonly display: string;
  readonly kind: 'tcp' | 'unix';
  /** TCP port actually bound (useful with :0); undefined for unix sockets. */
  readonly port: number | undefined;
  /** Removes the socket file if we own it and it is still the one we bound. Idempotent, never throws. */
  removeSocketFile(): void;
}

/** sun_path is 108 bytes including the terminating NUL. */
const MAX_UNIX_PATH_BYTES = 107;

export async function bindServer(server: Server, address: string, log: Logger): Promise<Bound> {
  return address.startsWith('/') ? bindUnix(server, address, log) : bindTcp(server, address, log);
}

export function splitHostPort(address: string): { host: string; port: number } {
  let host: string;
  let portText: string;
  if (address.startsWith('[')) {
    const end = address.indexOf(']');
    if (end < 0) throw new BindError(`cannot listen on TCP address ${JSON.stringify(address)}: missing ']' in address`);
    host = address.slice(1, end);
    if (address[end + 1] !== ':')
      throw new BindError(`cannot listen on TCP address ${JSON.stringify(address)}: missing port in address`);
    portText = address.slice(end + 2);
  } else {
    const colon = address.lastIndexOf(':');
    if (colon < 0) {
      throw new BindError(
        `cannot listen on TCP address ${JSON.stringify(address)}: missing port in address (unix sockets need an ` +
          `absolute path)`,
      );
    }
    host = address.slice(0, colon);
    if (host.includes(':'))
      throw new BindError(
        `cannot listen on TCP address ${JSON.stringify(address)}: too many colons in address (use [ipv6]:port)`,
      );
    portText = address.slice(colon + 1);
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw new BindError(
      `cannot listen on TCP address ${JSON.stringify(address)}: invalid port ${JSON.stringify(portText)}`,
    );
  }
  return { host, port: Number(portText) };
}

async function bindTcp(server: Server, address: string, log: Logger): Promise<Bound> {
  const { host, port } = splitHostPort(address);
  if (address.startsWith(':')) {
    log.warn('Binding on all interfaces. This will allow anyone to list all containers on your machine!', { address });
  }
  await listen(server, host === '' ? { port } : { host, port }).catch((err: unknown) => {
    throw new BindError(`cannot listen on TCP address ${JSON.stringify(address)}: ${errText(err)}`);
  });
  const a = server.address();
  const boundPort = a !== null && typeof a === 'object' ? a.port : port;
  const shownHost = host === '' ? '' : host.includes(':') ? `[${host}]` : host;
  return { display: `${shownHost}:${boundPort}`, kind: 'tcp', port: boundPort, removeSocketFile: () => {} };
}

async function bindUnix(server: Server, path: string, log: Logger): Promise<Bound> {
  if (Buffer.byteLength(path) > MAX_UNIX_PATH_BYTES) {
    throw new BindError(
      `cannot listen on unix domain socket ${JSON.stringify(path)}: path is ${Buffer.byteLength(path)} bytes, the ` +
        `limit is ${MAX_UNIX_PATH_BYTES}`,
    );
  }
  const before = await fsp.lstat(path).catch(() => undefined);
  if (before) {
    if (!before.isSocket()) {
      throw new BindError(
        `cannot listen on unix domain socket ${JSON.stringify(path)}: a file that is not a socket exists there; ` +
          `remove it or choose another path`,
      );
    }
    const live = await probeSocket(path);
    if (live === 'live') {
      throw new BindError(
        `cannot listen on unix domain socket ${JSON.stringify(path)}: another process is serving on it (is another ` +
          `metric server running?)`,
      );
    }
    log.info('Removing stale unix socket left by a previous server; taking it over.', { path });
    await fsp.unlink(path).catch((err: unknown) => {
      throw new BindError(`cannot remove stale unix domain socket ${JSON.stringify(path)}: ${errText(err)}`);
    });
  }
  await listen(server, { path }).catch((err: unknown) => {
    throw new BindError(`cannot listen on unix domain socket ${JSON.stringify(path)}: ${errText(err)}`);
  });
  let ours: { dev: bigint; ino: bigint };
  try {
    const st = statSync(path, { bigint: true });
    ours = { dev: st.dev, ino: st.ino };
  } catch (err) {
    throw new BindError(`cannot stat our own unix domain socket ${JSON.stringify(path)}: ${errText(err)}`);
  }
  log.info('Bound on socket file which we own; it will be deleted on server shutdown.', { path });
  await fsp
    .chmod(path, 0o777)
    .catch((err: unknown) => log.warn('Cannot chmod our unix socket to 0777', { path, error: errText(err) }));
  let removed = false;
  return {
    display: path,
    kind: 'unix',
    port: undefined,
    removeSocketFile: () => {
      if (removed) return;
      removed = true;
      try {
        // Only the file we bound: a successor server may have replaced it.
        const st = statSync(path, { bigint: true });
        if (st.dev === ours.dev && st.ino === ours.ino) unlinkSync(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
          log.warn('Cannot remove UDS', { path, error: errText(err) });
      }
    },
  };
}

/** Whether something accepts connections on the socket path (ECONNREFUSED etc. mean stale). */
function probeSocket(path: string): Promise<'live' | 'stale'> {
  return new Promise((resolve) => {
    const sock = net.connect({ path });
    const done = (v: 'live' | 'stale'): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(v);
    };
    // A listener that never accepts still completes connect (backlog), so a
    // timeout means "live but busy": refusing is the safe answer.
    const timer = setTimeout(() => done('live'), 1000);
    sock.once('connect', () => done('live'));
    sock.once('error', () => done('stale'));
  });
}

function listen(server: Server, opts: net.ListenOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(opts);
  });
}

export function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
