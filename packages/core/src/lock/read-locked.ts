// Reads a container's state file only while holding its runsc lock (state files are
// rewritten in place, so an unlocked read can see a torn file).
import { posix } from 'node:path';
import { StateFileError, StateFileMissingError, errorText } from '../discovery/errors.js';
import { LOCK_SUFFIX, STATE_SUFFIX, containerFileStem } from '../discovery/file-names.js';
import type { DiscoveryFs } from '../fs/index.js';
import { nodeFs } from '../fs/index.js';
import { LockBusyError } from './errors.js';
import { flockLocker } from './flock.js';
import type { StateLocker } from './locker.js';

export interface LockedReadDeps {
  readonly fs?: DiscoveryFs;
  readonly locker?: StateLocker;
}

export function statePath(root: string, containerId: string, sandboxId: string): string {
  return posix.join(root, containerFileStem(containerId, sandboxId) + STATE_SUFFIX);
}

export function lockPath(root: string, containerId: string, sandboxId: string): string {
  return posix.join(root, containerFileStem(containerId, sandboxId) + LOCK_SUFFIX);
}

/**
 * The state file's bytes, read under the container's exclusive non-blocking lock.
 * Throws `LockBusyError` (held elsewhere: retry later), `StateFileMissingError` (deleted),
 * `LockError` (cannot lock), `StateFileError` (cannot read).
 */
export async function readStateLocked(
  root: string,
  containerId: string,
  sandboxId: string,
  deps: LockedReadDeps = {},
): Promise<Uint8Array> {
  const fs = deps.fs ?? nodeFs;
  const locker = deps.locker ?? flockLocker;
  const lock = lockPath(root, containerId, sandboxId);
  const handle = locker.tryLock(lock);
  if (handle === 'locked') throw new LockBusyError(lock);
  const file = statePath(root, containerId, sandboxId);
  try {
    return fs.readFileSync !== undefined ? fs.readFileSync(file) : await fs.readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new StateFileMissingError(file);
    throw new StateFileError(file, '$', `cannot read: ${errorText(e)}`);
  } finally {
    handle.release();
  }
}
