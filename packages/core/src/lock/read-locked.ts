// Reads a container's state file only while holding its runsc lock (state files are
// rewritten in place, so an unlocked read can see a torn file).
import { posix } from 'node:path';
import { errorText, StateFileError, StateFileMissingError } from '../discovery/errors.js';
import { containerFileStem, LOCK_SUFFIX, STATE_SUFFIX } from '../discovery/file-names.js';
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
 * The buffer state files are read into (grown up to 1 MB), owned by parseStateLocked: it
 * is only read inside that call's `parse`, which runs synchronously, so calls never share it.
 */
let scratch: Buffer = Buffer.allocUnsafe(64 * 1024);
const MAX_KEPT_SCRATCH = 1 << 20;

/**
 * `parse` of the state file's bytes, read under the container's exclusive non-blocking
 * lock. The bytes may be a reused buffer: valid only while `parse` runs (it must copy
 * what it keeps). Throws `LockBusyError` (held elsewhere: retry later),
 * `StateFileMissingError` (deleted), `LockError` (cannot lock), `StateFileError` (cannot
 * read), or what `parse` throws.
 */
export async function parseStateLocked<T>(
  root: string,
  containerId: string,
  sandboxId: string,
  deps: LockedReadDeps,
  parse: (bytes: Uint8Array) => T,
): Promise<T> {
  const fs = deps.fs ?? nodeFs;
  const locker = deps.locker ?? flockLocker;
  const lock = lockPath(root, containerId, sandboxId);
  const handle = locker.tryLock(lock);
  if (handle === 'locked') throw new LockBusyError(lock);
  const file = statePath(root, containerId, sandboxId);
  let bytes: Uint8Array;
  try {
    if (fs.readFileSync !== undefined) {
      bytes = fs.readFileSync(file, scratch);
      if (bytes.buffer !== scratch.buffer && bytes.byteLength <= MAX_KEPT_SCRATCH) scratch = Buffer.from(bytes.buffer);
    } else {
      bytes = await fs.readFile(file);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new StateFileMissingError(file);
    throw new StateFileError(file, '$', `cannot read: ${errorText(e)}`);
  } finally {
    handle.release();
  }
  return parse(bytes);
}

/** The state file's bytes, a copy of their own, read under the lock (see parseStateLocked). */
export function readStateLocked(
  root: string,
  containerId: string,
  sandboxId: string,
  deps: LockedReadDeps = {},
): Promise<Uint8Array> {
  return parseStateLocked(root, containerId, sandboxId, deps, (bytes) => Buffer.from(bytes));
}
