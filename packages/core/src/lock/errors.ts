// Typed errors of runsc-compatible state-file locking.

/** Locking failed for a reason other than "held by someone else" (open failed, flock errno, koffi missing). */
export class LockError extends Error {
  override readonly name = 'LockError';
  constructor(
    readonly lockPath: string,
    message: string,
    readonly code?: string,
  ) {
    super(`cannot lock ${lockPath}: ${message}`);
  }
}

/**
 * The lock is held by another process (runsc creating/starting/deleting the container, or
 * another reader). Not a failure: the caller keeps what it has and retries later.
 */
export class LockBusyError extends Error {
  override readonly name = 'LockBusyError';
  constructor(readonly lockPath: string) {
    super(`state file locked by another process: ${lockPath}`);
  }
}
