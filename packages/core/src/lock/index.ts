export { LockBusyError, LockError } from './errors.js';
export type { LockHandle, StateLocker } from './locker.js';
export { type KoffiLike, createFlockLocker, flockLocker } from './flock.js';
export { type LockedReadDeps, lockPath, parseStateLocked, readStateLocked, statePath } from './read-locked.js';
