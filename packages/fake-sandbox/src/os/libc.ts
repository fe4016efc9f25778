// The few libc calls Node does not expose: flock(2) with runsc's semantics and
// a unix listening socket that is bound and listening but accepts nothing
// (Node's net.Server always accepts). Loaded lazily so importing the package
// never fails on a machine without libc.so.6 until a sandbox is started.
import koffi from 'koffi';

export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;
export const EWOULDBLOCK = 11;
const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
/** sockaddr_un.sun_path is 108 bytes including the terminating NUL. */
export const MAX_SOCKET_PATH_BYTES = 107;

interface Libc {
  flock(fd: number, op: number): number;
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, addr: { sun_family: number; sun_path: string }, len: number): number;
  listen(fd: number, backlog: number): number;
  dup(fd: number): number;
  close(fd: number): number;
}

let cached: Libc | undefined;

function libc(): Libc {
  if (cached) return cached;
  const lib = koffi.load('libc.so.6');
  const sockaddrUn = koffi.struct('fake_sandbox_sockaddr_un', {
    sun_family: 'uint16',
    sun_path: koffi.array('char', 108),
  });
  cached = {
    flock: lib.func('int flock(int, int)'),
    socket: lib.func('int socket(int, int, int)'),
    bind: lib.func('bind', 'int', ['int', koffi.pointer(sockaddrUn), 'uint32']),
    listen: lib.func('int listen(int, int)'),
    dup: lib.func('int dup(int)'),
    close: lib.func('int close(int)'),
  } as Libc;
  return cached;
}

/** A failed libc call, with the errno an operator can look up. */
export class LibcError extends Error {
  constructor(
    readonly call: string,
    readonly errno: number,
    detail: string,
  ) {
    super(`${call} failed with errno ${errno}: ${detail}`);
    this.name = 'LibcError';
  }
}

/** flock(2); returns 0 or the errno (EWOULDBLOCK with LOCK_NB when held elsewhere). */
export function flock(fd: number, op: number): number {
  const rc = libc().flock(fd, op);
  return rc === 0 ? 0 : koffi.errno();
}

/**
 * socket + bind + listen on a filesystem unix socket path. The returned fd is
 * listening with the given backlog; nothing accepts on it until a Node server
 * is attached to a dup of it (see RawListener).
 */
export function listenUnix(path: string, backlog: number): number {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
    throw new LibcError(
      'bind',
      36,
      `socket path ${path} is longer than ${MAX_SOCKET_PATH_BYTES} bytes; use a shorter root`,
    );
  }
  const c = libc();
  const fd = c.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new LibcError('socket', koffi.errno(), 'cannot create a unix socket');
  if (c.bind(fd, { sun_family: AF_UNIX, sun_path: path }, 110) !== 0) {
    const e = koffi.errno();
    c.close(fd);
    throw new LibcError('bind', e, `cannot bind control socket ${path}`);
  }
  if (c.listen(fd, backlog) !== 0) {
    const e = koffi.errno();
    c.close(fd);
    throw new LibcError('listen', e, `cannot listen on ${path}`);
  }
  return fd;
}

export function dupFd(fd: number): number {
  const d = libc().dup(fd);
  if (d < 0) throw new LibcError('dup', koffi.errno(), `cannot duplicate fd ${fd}`);
  return d;
}

export function closeFd(fd: number): void {
  libc().close(fd);
}
