// runsc-compatible locking (gofrs/flock as runsc uses it): open(O_RDONLY|O_CREAT|O_CLOEXEC, 0600)
// then flock(LOCK_EX|LOCK_NB). libc's flock is reached through koffi (prebuilt, no compiler).
import { closeSync, constants, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { LockError } from './errors.js';
import type { LockHandle, StateLocker } from './locker.js';

const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;
const EINTR = 4;
const EWOULDBLOCK = 11; // == EAGAIN on Linux

type FlockFn = (fd: number, op: number) => number;
interface Libc {
  readonly flock: FlockFn;
  readonly errno: () => number;
}

/** The part of koffi we use (injectable so the "cannot load" path is testable). */
export interface KoffiLike {
  load(name: string): { func(signature: string): FlockFn };
  errno(): number;
}

function requireKoffi(): KoffiLike {
  // Resolve koffi from this file: __filename in the CJS build, import.meta.url in ESM
  // (bundlers replace a bare `require` in ESM output with a stub that throws).
  const req = createRequire(typeof __filename === 'string' ? __filename : import.meta.url);
  return req('koffi') as KoffiLike;
}

function loadLibc(loadKoffi: () => KoffiLike): Libc | Error {
  try {
    const koffi = loadKoffi();
    const lib = koffi.load('libc.so.6');
    return { flock: lib.func('int flock(int fd, int operation)'), errno: () => koffi.errno() };
  } catch (e) {
    return new Error(
      `flock(2) is unavailable: cannot load koffi or libc.so.6 (${(e as Error).message}); ` +
        'runsc-compatible locking needs Linux/glibc and the koffi package installed',
    );
  }
}

/** flock with EINTR retried; returns 0 or the errno. */
function flockErrno(lib: Libc, fd: number, op: number): number {
  for (;;) {
    if (lib.flock(fd, op) === 0) return 0;
    const err = lib.errno();
    if (err !== EINTR) return err;
  }
}

class FlockHandle implements LockHandle {
  // Owned by the caller that took the lock; -1 once released.
  private fd: number;
  constructor(
    private readonly lib: Libc,
    fd: number,
  ) {
    this.fd = fd;
  }

  release(): void {
    const fd = this.fd;
    if (fd < 0) return;
    this.fd = -1;
    // LOCK_UN then close, as runsc does; close alone would also drop the lock, so an
    // unlock failure is not worth surfacing.
    flockErrno(this.lib, fd, LOCK_UN);
    closeSync(fd);
  }
}

/**
 * A flock(2) locker. koffi and libc are loaded on first use (importing core never needs the
 * native module); a load failure is remembered and every tryLock throws a `LockError` saying so.
 * Synchronous: open + non-blocking flock never wait on another process.
 */
export function createFlockLocker(loadKoffi: () => KoffiLike = requireKoffi): StateLocker {
  let libc: Libc | Error | undefined; // set once, by the first tryLock
  return {
    tryLock(lockPath: string): LockHandle | 'locked' {
      libc ??= loadLibc(loadKoffi);
      const lib = libc;
      if (lib instanceof Error) throw new LockError(lockPath, lib.message, 'ENOKOFFI');
      let fd: number;
      try {
        // libuv adds O_CLOEXEC itself.
        fd = openSync(lockPath, constants.O_RDONLY | constants.O_CREAT, 0o600);
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        throw new LockError(lockPath, err.message, err.code);
      }
      const errno = flockErrno(lib, fd, LOCK_EX | LOCK_NB);
      if (errno === 0) return new FlockHandle(lib, fd);
      closeSync(fd);
      if (errno === EWOULDBLOCK) return 'locked';
      throw new LockError(lockPath, `flock(LOCK_EX|LOCK_NB) failed with errno ${errno}`, `errno${errno}`);
    },
  };
}

/** The production locker (koffi + libc.so.6). */
export const flockLocker: StateLocker = createFlockLocker();
