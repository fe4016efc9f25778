// The registry on the real filesystem with the real flock locker and kill(pid, 0).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SandboxRegistry } from '../../src/registry/index.js';
import { stateJson } from '../support/memfs.js';

let base: string;
let root: string;
const holders: ChildProcess[] = [];

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'core-registry-'));
  root = join(base, 'root');
  mkdirSync(root);
});
afterEach(() => {
  for (const h of holders.splice(0)) {
    try {
      process.kill(-h.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  }
  rmSync(base, { recursive: true, force: true });
});

function writeSandbox(id: string, pid: number): void {
  writeFileSync(
    join(root, `${id}_sandbox:${id}.state`),
    stateJson((d) => {
      d.id = d.sandbox.id = id;
      d.sandbox.pid = pid;
      d.sandbox.metricServerAddress = '%RUNTIME_ROOT%/metrics.sock';
    }),
  );
}

async function holdLock(file: string): Promise<ChildProcess> {
  const child = spawn('flock', ['-x', file, 'sh', '-c', 'echo held; exec sleep 30'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  holders.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (c) => reject(new Error(`flock exited with ${c}`)));
  });
  return child;
}

describe('SandboxRegistry on the real filesystem', () => {
  it('serves a live sandbox, waits out a runsc-held lock, and drops it when its process dies', async () => {
    const reg = new SandboxRegistry({ root, serverAddress: `${root}/metrics.sock`, prepare: (v) => v.labels });
    // A live pid we can kill later.
    const victim = spawn('sleep', ['30'], { stdio: 'ignore', detached: true });
    holders.push(victim);
    writeSandbox('live', victim.pid!);
    writeSandbox('me', process.pid);

    const holder = await holdLock(join(root, 'me_sandbox:me.lock'));
    const first = await reg.refresh();
    expect(first.added).toEqual(['live']);
    expect(first.busy).toEqual(['me']);
    expect(existsSync(join(root, 'live_sandbox:live.lock'))).toBe(true); // created as runsc does

    process.kill(-holder.pid!, 'SIGKILL');
    await new Promise((r) => holder.once('exit', r));
    let second = await reg.refresh();
    for (let i = 0; i < 100 && second.added.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 20)); // the killed sleep may release the fd a moment later
      second = await reg.refresh();
    }
    expect(second.added).toEqual(['me']);
    expect(reg.served().map((s) => s.id)).toEqual(['live', 'me']);
    expect(reg.get('me')!.state).toMatchObject({ sandbox: 'me' });

    const exited = new Promise((r) => victim.once('exit', r));
    process.kill(-victim.pid!, 'SIGKILL');
    await exited;
    const third = await reg.refresh();
    expect(third.removed).toEqual(['live']);
    expect(reg.totalRegistered).toBe(2);

    unlinkSync(join(root, 'me_sandbox:me.state'));
    expect((await reg.refresh()).removed).toEqual(['me']);
  });

  it('reports a root directory that disappeared', async () => {
    const reg = new SandboxRegistry({ root, serverAddress: '/x.sock', prepare: () => 1 });
    expect((await reg.refresh()).rootListed).toBe(true);
    rmSync(root, { recursive: true });
    const out = await reg.refresh();
    expect(out.rootListed).toBe(false);
    expect(out.rootError?.message).toContain(root);
  });
});
