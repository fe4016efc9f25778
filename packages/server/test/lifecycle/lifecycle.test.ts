import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FakeBackend, FakeTarget } from '../support/fake-backend.js';
import { get } from '../support/http-client.js';
import { expectPromtoolAccepts } from '../support/promtool.js';
import { startTestServer, tempDir } from '../support/server.js';

describe('pid file', () => {
  it('is written after binding (decimal pid, no newline, 0644) and removed on shutdown', async () => {
    const dir = tempDir();
    const pidFile = `${dir}/server.pid`;
    const s = await startTestServer({ pidFile });
    expect(readFileSync(pidFile, 'utf8')).toBe(String(process.pid));
    expect(statSync(pidFile).mode & 0o777).toBe(0o644 & ~process.umask());
    await s.handle.close();
    expect(existsSync(pidFile)).toBe(false);
  });

  it('fails start-up with one line when it cannot be written, and leaves no socket behind', async () => {
    const dir = tempDir();
    const sock = `${dir}/m.sock`;
    await expect(
      startTestServer({ pidFile: `${dir}/missing/server.pid`, metricServer: sock, root: dir }),
    ).rejects.toThrow(new RegExp(`^cannot write PID to file "${dir}/missing/server.pid": ENOENT`));
    expect(existsSync(sock)).toBe(false);
  });
});

describe('root directory', () => {
  it('refuses to start on a root it cannot list, unless --allow-unknown-root', async () => {
    const root = `${tempDir()}/absent`;
    await expect(startTestServer({ root })).rejects.toThrow(
      new RegExp(`^invalid root directory "${root}": tried to list all entries within it and got: ENOENT`),
    );
    const s = await startTestServer({ root, allowUnknownRoot: true });
    expect((await get(s.target, '/')).status).toBe(200);
  });

  it('shuts the server down when the root disappears, at the next loop pass', async () => {
    const root = tempDir();
    const backend = new FakeBackend();
    const s = await startTestServer({ root, verifyLoopIntervalMs: 50 }, backend);
    await new Promise((r) => setTimeout(r, 120));
    expect(backend.refreshes).toBeGreaterThan(0); // the loop runs discovery
    rmSync(root, { recursive: true });
    const reason = await Promise.race([
      s.handle.closed,
      new Promise((r) => setTimeout(() => r('still running'), 3000)),
    ]);
    expect(reason).toBe('root directory is gone');
    expect(backend.stopped).toBe(true);
  });

  it('keeps running without its root with --allow-unknown-root', async () => {
    const root = tempDir();
    const s = await startTestServer({ root, verifyLoopIntervalMs: 50, allowUnknownRoot: true });
    rmSync(root, { recursive: true });
    const reason = await Promise.race([s.handle.closed, new Promise((r) => setTimeout(() => r('still running'), 400))]);
    expect(reason).toBe('still running');
    expect((await get(s.target, '/runsc-metrics/pid')).status).toBe(200);
  });
});

describe('graceful shutdown', () => {
  it('stops accepting, lets an in-flight scrape finish, then resolves closed', async () => {
    const backend = new FakeBackend([new FakeTarget({ id: 'slow', delayMs: 500 })]);
    const s = await startTestServer({}, backend);
    const inflight = get(s.target, '/metrics');
    await new Promise((r) => setTimeout(r, 100));
    const closing = s.handle.close('test');
    await new Promise((r) => setTimeout(r, 50));
    await expect(get(s.target, '/')).rejects.toThrow(/ECONNREFUSED/);
    const res = await inflight;
    expect(res.status).toBe(200);
    expect(res.body).toContain('runsc_fs_opens{sandbox="slow"}');
    expectPromtoolAccepts(res.body);
    await closing;
    expect(await s.handle.closed).toBe('test');
  });

  it('cuts requests that outlive the grace period instead of hanging', async () => {
    const backend = new FakeBackend([new FakeTarget({ id: 'stuck', delayMs: 'never' })]);
    const s = await startTestServer({ shutdownGraceMs: 300, perSandboxTimeoutMs: 20_000 }, backend);
    const inflight = get(s.target, '/metrics').then(
      (r) => r.status,
      () => 'cut',
    );
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    await s.handle.close('test');
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(await inflight).toBe('cut');
    expect(s.log.records().some((r) => String(r.msg).startsWith('In-flight requests did not finish'))).toBe(true);
  });
});
