// runsc's container lock: open(<lock>, O_RDONLY|O_CREAT, 0600) + flock(LOCK_EX),
// held while the state file is rewritten. We poll with LOCK_NB instead of a
// blocking flock so a reader holding the lock never blocks our event loop.
import { closeSync, constants, openSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { EWOULDBLOCK, flock, LibcError, LOCK_EX, LOCK_NB, LOCK_UN } from './libc.js';

const POLL_MS = 5;

export interface HeldLock {
  readonly path: string;
  /** Unlocks and closes the fd; idempotent. */
  release(): void;
}

export async function acquireLock(path: string, signal?: AbortSignal): Promise<HeldLock> {
  const fd = openSync(path, constants.O_RDONLY | constants.O_CREAT, 0o600);
  try {
    for (;;) {
      const err = flock(fd, LOCK_EX | LOCK_NB);
      if (err === 0) break;
      if (err !== EWOULDBLOCK) throw new LibcError('flock', err, `cannot lock ${path}`);
      signal?.throwIfAborted();
      await sleep(POLL_MS);
    }
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  let held = true;
  return {
    path,
    release() {
      if (!held) return;
      held = false;
      flock(fd, LOCK_UN);
      closeSync(fd);
    },
  };
}
