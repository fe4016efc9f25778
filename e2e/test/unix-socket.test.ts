// Unix-socket ownership of the built server: its own socket is 0777 and removed
// on SIGINT/SIGTERM/SIGQUIT together with the pid file; a live socket of
// another process is refused and left alone; a stale one (its server was
// SIGKILLed) is taken over and then removed.
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpGet } from '../src/scrape.js';
import { startServer } from '../src/server-process.js';

let dir: string;
let root: string;

beforeAll(() => {
  dir = mkdtempSync('/tmp/us');
  root = join(dir, 'root');
  mkdirSync(root);
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function canConnect(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ path });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

describe('own socket and pid file', () => {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGQUIT'] as const) {
    it(`are 0777 / the pid while serving and removed on ${signal}`, async () => {
      const sock = join(dir, `own-${signal}.sock`);
      const pidFile = join(dir, `pid-${signal}`);
      const server = await startServer({ root, address: sock, flags: [`--pid-file=${pidFile}`] });
      const st = lstatSync(sock);
      expect(st.isSocket()).toBe(true);
      expect(st.mode & 0o777).toBe(0o777);
      expect(readFileSync(pidFile, 'utf8')).toBe(String(server.pid));
      const pid = await httpGet(server.target, '/runsc-metrics/pid');
      expect([pid.status, pid.body]).toEqual([200, String(server.pid)]);

      const exit = await server.stop(signal);
      expect(exit, server.output()).toEqual({ code: 0, signal: null });
      expect(existsSync(sock)).toBe(false);
      expect(existsSync(pidFile)).toBe(false);
    });
  }
});

describe('sockets that already exist', () => {
  let other: Server | undefined;
  afterAll(() => other?.close());

  it('refuses a live socket of another process and leaves it working', async () => {
    const sock = join(dir, 'live.sock');
    other = createServer((c) => c.end());
    await new Promise<void>((resolve) => other?.listen(sock, resolve));
    const server = await startServer({ root, address: sock, waitReady: false });
    const exit = await server.exited;
    expect(exit.code, server.output()).not.toBe(0);
    expect(exit.code).not.toBeNull();
    expect(server.output()).toMatch(/live\.sock/);
    expect(lstatSync(sock).isSocket()).toBe(true);
    expect(await canConnect(sock)).toBe(true);
  });

  it('takes over the stale socket of a SIGKILLed server, then removes it on shutdown', async () => {
    const sock = join(dir, 'stale.sock');
    const first = await startServer({ root, address: sock });
    expect(await first.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    expect(lstatSync(sock).isSocket()).toBe(true); // left behind, nobody listening
    expect(await canConnect(sock)).toBe(false);

    const second = await startServer({ root, address: sock });
    expect(lstatSync(sock).mode & 0o777).toBe(0o777);
    const health = await httpGet(second.target, `/runsc-metrics/healthcheck?root=${encodeURIComponent(root)}`);
    expect(health.body).toBe('runsc-metrics:OK');
    expect(await second.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(existsSync(sock)).toBe(false);
  });
});
