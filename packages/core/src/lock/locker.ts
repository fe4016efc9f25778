// The locking seam: production uses flock(2) through koffi; unit tests inject a fake.

export interface LockHandle {
  /** Unlocks and closes. Idempotent. */
  release(): void;
}

export interface StateLocker {
  /**
   * Non-blocking exclusive lock of `lockPath` (created if absent). `'locked'` when another
   * process holds it; throws `LockError` for any other failure.
   */
  tryLock(lockPath: string): LockHandle | 'locked';
}
