import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createFleet, FakeSandboxError, type Fleet } from '../../src/index.js';
import { call, EXPORT_ALL, shortRoot } from '../support/client.js';

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

/** util-linux `flock -n`: exit 0 when the lock could be taken, 1 when it is held. */
const flockFree = (path: string): boolean => spawnSync('flock', ['-n', '-x', path, 'true']).status === 0;

const connectError = (path: string): Promise<string> =>
  new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('boot under the lock', () => {
  it('holds the lock while booting and writes the state file before releasing it', async () => {
    fleet = await createFleet({ root: shortRoot(), metricServer: '/run/ms.sock' });
    const sb = fleet.create({ bootMs: 1500 });
    const started = sb.start();
    await sleep(300);
    expect(existsSync(sb.lockPath)).toBe(true);
    expect(flockFree(sb.lockPath)).toBe(false);
    expect(existsSync(sb.statePath)).toBe(false);
    await started;
    expect(flockFree(sb.lockPath)).toBe(true);
    expect(JSON.parse(readFileSync(sb.statePath, 'utf8')).status).toBe('running');
  });

  it('"booting" leaves a visible state file locked until stopped', async () => {
    fleet = await createFleet({ root: shortRoot(), metricServer: '/run/ms.sock' });
    const sb = fleet.create({ behaviour: 'booting' });
    const started = sb.start();
    await sleep(300);
    expect(JSON.parse(readFileSync(sb.statePath, 'utf8')).status).toBe('created');
    expect(flockFree(sb.lockPath)).toBe(false);
    await sleep(700);
    expect(flockFree(sb.lockPath)).toBe(false);
    await sb.stop();
    await started;
    expect(existsSync(sb.statePath)).toBe(false);
    expect(existsSync(sb.lockPath)).toBe(false);
  });

  it('waits for an external lock holder before writing (runsc blocks on LOCK_EX)', async () => {
    fleet = await createFleet({ root: shortRoot(), metricServer: '/run/ms.sock' });
    const sb = await fleet.add({ autoStart: false });
    const holder = (await import('node:child_process')).spawn('flock', ['-x', sb.lockPath, 'sleep', '1.5'], {
      stdio: 'ignore',
    });
    for (let i = 0; i < 300 && flockFree(sb.lockPath); i++) await sleep(10);
    expect(flockFree(sb.lockPath)).toBe(false);
    const t0 = Date.now();
    await sb.stop(); // delete must wait for the lock
    expect(Date.now() - t0).toBeGreaterThanOrEqual(500);
    expect(existsSync(sb.statePath)).toBe(false);
    holder.kill();
  });
});

describe('crash and stop', () => {
  it('stop() during boot ends the boot and leaves nothing behind', async () => {
    fleet = await createFleet({ root: shortRoot(), metricServer: '/run/ms.sock' });
    const sb = fleet.create({ bootMs: 5000, subcontainers: [{ id: 'boot-sub' }] });
    const started = sb.start();
    await sleep(200);
    const pid = sb.pid;
    const t0 = Date.now();
    await sb.stop();
    await started;
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(readdirSync(fleet.root)).toEqual([]);
    expect(isAlive(pid)).toBe(false);
  });

  it('a failed create throws a typed error and leaves nothing behind', async () => {
    fleet = await createFleet({ root: `${shortRoot()}${'x'.repeat(90)}`, metricServer: '/run/ms.sock' });
    const sb = fleet.create();
    await expect(sb.start()).rejects.toThrow(/longer than 107 bytes; use a shorter root/);
    expect(readdirSync(fleet.root)).toEqual([]);
    expect(sb.status).toBe('stopped');
  });

  it('crash() kills the pid, leaves running state, socket and lock, and refuses connections', async () => {
    fleet = await createFleet({ root: shortRoot(), metricServer: '/run/ms.sock' });
    const sb = await fleet.add();
    expect((await call(sb.socketPath, EXPORT_ALL)).end).toBe('complete');
    const pid = sb.pid;
    await sb.crash();
    expect(isAlive(pid)).toBe(false);
    expect(JSON.parse(readFileSync(sb.statePath, 'utf8'))).toMatchObject({ status: 'running', sandbox: { pid } });
    expect(existsSync(sb.lockPath)).toBe(true);
    expect(existsSync(sb.socketPath)).toBe(true);
    expect(await connectError(sb.socketPath)).toBe('ECONNREFUSED');
    expect(flockFree(sb.lockPath)).toBe(true);
    expect(sb.status).toBe('crashed');
  });

  it('an external SIGKILL of the state file pid is a crash too', async () => {
    fleet = await createFleet({ root: shortRoot(), metricServer: '/run/ms.sock' });
    const sb = await fleet.add();
    process.kill(sb.pid, 'SIGKILL');
    for (let i = 0; i < 100 && sb.status !== 'crashed'; i++) await sleep(10);
    expect(sb.status).toBe('crashed');
    expect(await connectError(sb.socketPath)).toBe('ECONNREFUSED');
  });

  it('stop() deletes socket, state and lock files of every container and kills the process', async () => {
    fleet = await createFleet({ root: shortRoot(), metricServer: '/run/ms.sock' });
    const sb = await fleet.add({ subcontainers: [{ id: 'x-sub' }] });
    const pid = sb.pid;
    expect(readdirSync(fleet.root)).toHaveLength(5);
    await sb.stop();
    expect(readdirSync(fleet.root)).toEqual([]);
    expect(isAlive(pid)).toBe(false);
  });

  it('sandboxes of one host share its pid: crash() refuses, killing the host crashes them all', async () => {
    fleet = await createFleet({ root: shortRoot(), metricServer: '/run/ms.sock', count: 4, hosts: 2 });
    const [a, b, c] = fleet.sandboxes;
    expect(a?.pid).toBe(c?.pid);
    expect(a?.pid).not.toBe(b?.pid);
    await expect(a?.crash()).rejects.toThrow(FakeSandboxError);
    await fleet.hosts[0]?.kill();
    for (let i = 0; i < 100 && c?.status !== 'crashed'; i++) await sleep(10);
    expect(a?.status).toBe('crashed');
    expect(c?.status).toBe('crashed');
    expect(b?.status).toBe('running');
    expect(await connectError(a?.socketPath ?? '')).toBe('ECONNREFUSED');
    expect((await call(b?.socketPath ?? '', EXPORT_ALL)).end).toBe('complete');
  });

  it('close() removes everything, including crashed sandboxes and the root it created', async () => {
    const root = shortRoot();
    fleet = await createFleet({ root, metricServer: '/run/ms.sock', count: 3 });
    await fleet.sandboxes[1]?.crash();
    await fleet.close();
    fleet = undefined;
    expect(existsSync(root)).toBe(false);
  });
});
