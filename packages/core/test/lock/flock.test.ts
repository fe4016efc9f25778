// Interop with util-linux flock(1): the same flock(2) locks runsc takes.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateFileMissingError } from '../../src/discovery/index.js';
import {
  createFlockLocker,
  flockLocker,
  LockBusyError,
  LockError,
  parseStateLocked,
  readStateLocked,
} from '../../src/lock/index.js';

let dir: string;
const children: ChildProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'core-lock-'));
});
afterEach(() => {
  for (const c of children.splice(0)) killGroup(c);
  rmSync(dir, { recursive: true, force: true });
});

/** flock(1) and its `sleep` child form their own process group: kill both (the child inherits the locked fd). */
function killGroup(c: ChildProcess): void {
  try {
    process.kill(-c.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Starts `flock -x FILE sleep 30` and resolves once it holds the lock (it prints after locking). */
async function holdWithUtilLinux(file: string): Promise<ChildProcess> {
  const child = spawn('flock', ['-x', file, 'sh', '-c', 'echo held; exec sleep 30'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`flock exited early with ${code}`)));
  });
  return child;
}

function utilLinuxCanLock(file: string): boolean {
  const r = spawnSync('flock', ['-n', file, 'true']);
  if (r.error) throw r.error;
  return r.status === 0;
}

describe('flockLocker', () => {
  it('creates the lock file with mode 0600 and locks it', () => {
    const file = join(dir, 'c_sandbox:s.lock');
    const h = flockLocker.tryLock(file);
    expect(h).not.toBe('locked');
    expect(statSync(file).mode & 0o777).toBe(0o600 & ~process.umask());
    (h as Exclude<typeof h, 'locked'>).release();
  });

  it('sees a lock held by util-linux flock in another process as locked', async () => {
    const file = join(dir, 'c_sandbox:s.lock');
    const holder = await holdWithUtilLinux(file);
    expect(flockLocker.tryLock(file)).toBe('locked');
    const exited = new Promise((r) => holder.once('exit', r));
    killGroup(holder);
    await exited;
    // The sleep child may outlive flock(1) by a moment; wait until util-linux itself can lock.
    for (let i = 0; i < 200 && !utilLinuxCanLock(file); i++) await new Promise((r) => setTimeout(r, 10));
    const h = flockLocker.tryLock(file);
    expect(h).not.toBe('locked');
    (h as Exclude<typeof h, 'locked'>).release();
  });

  it('holds a lock util-linux flock -n cannot take, until released', () => {
    const file = join(dir, 'c_sandbox:s.lock');
    const h = flockLocker.tryLock(file);
    if (h === 'locked') throw new Error('unexpectedly locked');
    expect(utilLinuxCanLock(file)).toBe(false);
    h.release();
    h.release(); // idempotent
    expect(utilLinuxCanLock(file)).toBe(true);
  });

  it('is exclusive between two of our own handles (separate open file descriptions)', () => {
    const file = join(dir, 'x.lock');
    const a = flockLocker.tryLock(file);
    expect(a).not.toBe('locked');
    expect(flockLocker.tryLock(file)).toBe('locked');
    (a as Exclude<typeof a, 'locked'>).release();
  });

  it('fails with a clear LockError when koffi cannot be loaded, without touching the file', () => {
    let loads = 0;
    const locker = createFlockLocker(() => {
      loads++;
      throw new Error("Cannot find module 'koffi'");
    });
    const file = join(dir, 'k.lock');
    for (let i = 0; i < 2; i++) {
      let err: unknown;
      try {
        locker.tryLock(file);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(LockError);
      expect((err as LockError).code).toBe('ENOKOFFI');
      expect((err as Error).message).toContain(
        "flock(2) is unavailable: cannot load koffi or libc.so.6 (Cannot find module 'koffi')",
      );
    }
    expect(loads).toBe(1);
    expect(existsSync(file)).toBe(false);
  });

  it('throws a LockError when the lock file cannot be opened', () => {
    expect(() => flockLocker.tryLock(join(dir, 'no-such-dir', 'x.lock'))).toThrow(LockError);
  });
});

describe('parseStateLocked', () => {
  it('hands parse the whole file, also one bigger than its read buffer, under the lock', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lock-parse-'));
    const big = 'x'.repeat(300 * 1024);
    writeFileSync(join(dir, 'c_sandbox:s.state'), big);
    writeFileSync(join(dir, 'd_sandbox:s.state'), 'small');
    expect(await parseStateLocked(dir, 'c', 's', {}, (b) => Buffer.from(b).toString())).toBe(big);
    expect(await parseStateLocked(dir, 'd', 's', {}, (b) => Buffer.from(b).toString())).toBe('small');
    expect(await parseStateLocked(dir, 'c', 's', {}, (b) => b.byteLength)).toBe(big.length);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('readStateLocked', () => {
  it('reads the state file while holding the lock, then releases it', async () => {
    writeFileSync(join(dir, 'c_sandbox:s.state'), '{"id":"c"}');
    const bytes = await readStateLocked(dir, 'c', 's');
    expect(Buffer.from(bytes).toString()).toBe('{"id":"c"}');
    expect(existsSync(join(dir, 'c_sandbox:s.lock'))).toBe(true);
    expect(utilLinuxCanLock(join(dir, 'c_sandbox:s.lock'))).toBe(true);
  });

  it('refuses to read while runsc (here util-linux) holds the lock', async () => {
    writeFileSync(join(dir, 'c_sandbox:s.state'), '{}');
    await holdWithUtilLinux(join(dir, 'c_sandbox:s.lock'));
    await expect(readStateLocked(dir, 'c', 's')).rejects.toBeInstanceOf(LockBusyError);
  });

  it('reports a deleted state file distinctly and still releases the lock', async () => {
    await expect(readStateLocked(dir, 'gone', 's')).rejects.toBeInstanceOf(StateFileMissingError);
    expect(utilLinuxCanLock(join(dir, 'gone_sandbox:s.lock'))).toBe(true);
  });

  it('holds the lock during the read (fake fs observes it)', async () => {
    let lockedDuringRead: boolean | undefined;
    const file = join(dir, 'c_sandbox:s.lock');
    await readStateLocked(dir, 'c', 's', {
      fs: {
        readdir: () => Promise.resolve([]),
        stat: () => Promise.reject(new Error('unused')),
        readFile: () => {
          lockedDuringRead = !utilLinuxCanLock(file);
          return Promise.resolve(new Uint8Array());
        },
      },
    });
    expect(lockedDuringRead).toBe(true);
    expect(utilLinuxCanLock(file)).toBe(true);
  });
});
