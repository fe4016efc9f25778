import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createFleet } from '@org/metricserver-fake-sandbox';
import { describe, expect, it } from 'vitest';
import { SERVER_FLAGS } from '../../src/flags.js';
import { cliBundle } from '../support/cli-bundle.js';
import { get, request } from '../support/http-client.js';
import { onCleanup, tempDir } from '../support/server.js';

function runSync(args: string[], env: NodeJS.ProcessEnv = process.env) {
  return spawnSync(process.execPath, [cliBundle(), ...args], { encoding: 'utf8', env, timeout: 20_000 });
}

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

function startCli(args: string[]) {
  const child = spawn(process.execPath, [cliBundle(), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  onCleanup(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, exited, stderr: () => stderr };
}

describe('CLI exit codes and messages', () => {
  it('--help documents every flag and exits 0', () => {
    const r = runSync(['--help']);
    expect(r.status).toBe(0);
    for (const f of SERVER_FLAGS) expect(r.stdout).toContain(`--${f.name}`);
  });

  it('a malformed global flag exits 2 with one line', () => {
    const r = runSync(['--nope']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('runsc-metric-server: flag provided but not defined: -nope (see --help)\n');
  });

  it('start-up failures exit 128 with exactly one stderr line and no stack trace', () => {
    const dir = tempDir();
    const cases: string[][] = [
      ['--root', dir],
      ['--root', dir, '--metric-server', `${dir}/%ID%.sock`],
      ['--root', `${dir}/absent`, '--metric-server', '127.0.0.1:0'],
      ['--root', dir, '--metric-server', 'relative.sock'],
      ['--root', dir, '--metric-server', '127.0.0.1:0', 'metric-server', '--bogus'],
      ['--root', dir, '--metric-server', '127.0.0.1:0', '--pid-file', `${dir}/no/such/dir/pid`],
    ];
    for (const args of cases) {
      const r = runSync(args);
      expect(r.status, args.join(' ')).toBe(128);
      const lines = r.stderr.split('\n').filter((l) => l.startsWith('runsc-metric-server: '));
      expect(lines, r.stderr).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});

describe('signals', () => {
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGQUIT'] as const) {
    it(`${sig}: graceful shutdown, socket and pid file removed, exit 0`, async () => {
      const dir = tempDir();
      const sock = `${dir}/m.sock`;
      const pidFile = `${dir}/m.pid`;
      const cli = startCli(['--root', dir, '--metric-server', sock, 'metric-server', '--pid-file', pidFile]);
      await waitFor(() => existsSync(pidFile), 10_000);
      expect(readFileSync(pidFile, 'utf8')).toBe(String(cli.child.pid));
      expect((await get({ socketPath: sock }, '/runsc-metrics/pid')).body).toBe(String(cli.child.pid));
      cli.child.kill(sig);
      const { code } = await cli.exited;
      expect(code).toBe(0);
      expect(existsSync(sock)).toBe(false);
      expect(existsSync(pidFile)).toBe(false);
    });
  }

  it('a second signal exits at once while a scrape is stuck, still removing the files', async () => {
    const dir = tempDir();
    const sock = `${dir}/m.sock`;
    const pidFile = `${dir}/m.pid`;
    const fleet = await createFleet({
      root: dir,
      metricServer: sock,
      count: 1,
      behaviours: [{ behaviour: 'no-answer', count: 1 }],
    });
    onCleanup(() => fleet.close());
    const cli = startCli(['--root', dir, '--metric-server', sock, '--pid-file', pidFile, '--per-sandbox-timeout=20s']);
    await waitFor(() => existsSync(pidFile), 10_000);
    const stuck = request({ socketPath: sock }, 'GET', '/metrics').catch(() => 'cut');
    await new Promise((r) => setTimeout(r, 300));
    cli.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    cli.child.kill('SIGTERM');
    const { code } = await cli.exited;
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(code).toBe(128);
    expect(await stuck).toBe('cut');
    expect(existsSync(sock)).toBe(false);
    expect(existsSync(pidFile)).toBe(false);
  });
});
