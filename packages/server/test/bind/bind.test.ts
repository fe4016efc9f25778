import { existsSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { BindError, splitHostPort } from '../../src/bind.js';
import { get } from '../support/http-client.js';
import { onCleanup, startTestServer, tempDir } from '../support/server.js';

function listenUnix(path: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const s = net.createServer((c) => c.end());
    s.once('error', reject);
    s.listen(path, () => resolve(s));
  });
}

describe('unix socket ownership', () => {
  it('creates, chmods 0777 and removes its own socket on shutdown', async () => {
    const dir = tempDir();
    const path = `${dir}/m.sock`;
    const s = await startTestServer({ metricServer: path, root: dir });
    expect(s.handle.address).toBe(path);
    const st = statSync(path);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o777);
    expect((await get({ socketPath: path }, '/')).status).toBe(200);
    await s.handle.close();
    expect(existsSync(path)).toBe(false);
  });

  it('substitutes %RUNTIME_ROOT% in the socket path', async () => {
    const dir = tempDir();
    const s = await startTestServer({ metricServer: '%RUNTIME_ROOT%/rt.sock', root: dir });
    expect(s.handle.address).toBe(`${dir}/rt.sock`);
    expect(s.handle.identity).toBe(`${dir}/rt.sock`);
  });

  it('refuses a live socket that another process serves, and leaves it alone', async () => {
    const dir = tempDir();
    const path = `${dir}/live.sock`;
    const other = await listenUnix(path);
    onCleanup(() => new Promise<void>((r) => other.close(() => r())));
    await expect(startTestServer({ metricServer: path, root: dir })).rejects.toThrow(
      `cannot listen on unix domain socket "${path}": another process is serving on it (is another metric server running?)`,
    );
    expect(statSync(path).isSocket()).toBe(true);
  });

  it('takes over a stale socket (nobody listening) and then owns it', async () => {
    const dir = tempDir();
    const path = `${dir}/stale.sock`;
    const { spawnSync } = await import('node:child_process');
    // python-free way to leave a stale socket: a child binds and is killed hard.
    const child = spawnSync(process.execPath, [
      '-e',
      `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`,
    ]);
    expect(child.signal).toBe('SIGKILL');
    expect(statSync(path).isSocket()).toBe(true);
    const s = await startTestServer({ metricServer: path, root: dir });
    expect((await get({ socketPath: path }, '/')).status).toBe(200);
    expect(s.log.records().some((r) => String(r.msg).includes('stale unix socket'))).toBe(true);
    await s.handle.close();
    expect(existsSync(path)).toBe(false);
  });

  it('refuses to replace a file that is not a socket', async () => {
    const dir = tempDir();
    const path = `${dir}/plain`;
    writeFileSync(path, 'x');
    await expect(startTestServer({ metricServer: path, root: dir })).rejects.toThrow(/not a socket/);
  });

  it('refuses a path longer than sun_path', async () => {
    const dir = tempDir();
    const path = `${dir}/${'x'.repeat(120)}.sock`;
    await expect(startTestServer({ metricServer: path, root: dir })).rejects.toThrow(/the limit is 107/);
  });
});

describe('TCP', () => {
  it('splits host:port like Go', () => {
    expect(splitHostPort('127.0.0.1:9')).toEqual({ host: '127.0.0.1', port: 9 });
    expect(splitHostPort(':9')).toEqual({ host: '', port: 9 });
    expect(splitHostPort('[::1]:9')).toEqual({ host: '::1', port: 9 });
    expect(() => splitHostPort('relative/path.sock')).toThrow(BindError);
    expect(() => splitHostPort('relative/path.sock')).toThrow(/missing port in address/);
    expect(() => splitHostPort('h:99999')).toThrow(/invalid port/);
    expect(() => splitHostPort('::1:9')).toThrow(/too many colons/);
  });

  it('warns when binding all interfaces (leading colon only)', async () => {
    const s = await startTestServer({ metricServer: ':0' });
    expect(s.log.records().some((r) => String(r.msg).startsWith('Binding on all interfaces.'))).toBe(true);
    const t = await startTestServer({ metricServer: '127.0.0.1:0' });
    expect(t.log.records().some((r) => String(r.msg).startsWith('Binding on all interfaces.'))).toBe(false);
    expect(t.handle.address).toBe(`127.0.0.1:${t.handle.port}`);
  });

  it('reports a port in use as one clear error', async () => {
    const s = await startTestServer();
    await expect(startTestServer({ metricServer: `127.0.0.1:${s.handle.port}` })).rejects.toThrow(
      new RegExp(`^cannot listen on TCP address "127.0.0.1:${s.handle.port}": .*EADDRINUSE`),
    );
  });
});
