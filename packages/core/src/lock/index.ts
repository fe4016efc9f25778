export { LockBusyError, LockError } from './errors.js';
export { createFlockLocker, flockLocker, type KoffiLike } from './flock.js';
export type { LockHandle, StateLocker } from './locker.js';
export { type LockedReadDeps, lockPath, parseStateLocked, readStateLocked, statePath } from './read-locked.js';
