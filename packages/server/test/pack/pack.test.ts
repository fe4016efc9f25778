// The published shape: `pnpm pack` of this package installs in an empty
// directory with npm, offline, and its bin works there (workspace packages are
// bundled into dist; koffi, re2js, yaml and bcryptjs come as real dependencies, packed
// from the workspace's own copies by test-support/packed-server.ts: tests may not reach
// a registry).

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createFleet } from '@org/metricserver-fake-sandbox';
import { describe, expect, it } from 'vitest';
import { installPackedServer } from '../../../../test-support/packed-server.js';
import { get } from '../support/http-client.js';
import { expectPromtoolAccepts } from '../support/promtool.js';
import { onCleanup, tempDir } from '../support/server.js';

const pkgDir = fileURLToPath(new URL('../../', import.meta.url));

function sh(cmd: string, args: string[], cwd: string, timeout = 180_000): string {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    timeout,
    env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' },
  });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

describe('npm pack', () => {
  it('installs offline into an empty directory and runs runsc-metric-server', async () => {
    if (!existsSync(`${pkgDir}dist/bin.js`)) {
      throw new Error('dist/bin.js is missing: run `pnpm turbo build` before this test (npm test does)');
    }
    const manifest = JSON.parse(readFileSync(`${pkgDir}package.json`, 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(Object.keys(manifest.dependencies).sort()).toEqual(['bcryptjs', 'koffi', 're2js', 'yaml']);
    const app = installPackedServer(`${tempDir('ms-pack-')}/app`).dir;

    const help = sh('npx', ['--offline', 'runsc-metric-server', '--help'], app);
    expect(help).toContain('--metric-server');

    // And it serves a sandbox (flock through koffi, filters through re2js).
    const root = tempDir('ms-pack-root-');
    const sock = `${root}/m.sock`;
    const fleet = await createFleet({ root, metricServer: sock, count: 1 });
    onCleanup(() => fleet.close());
    const child = spawn(`${app}/node_modules/.bin/runsc-metric-server`, ['--root', root, '--metric-server', sock], {
      stdio: 'ignore',
    });
    onCleanup(() => void child.kill('SIGKILL'));
    const end = Date.now() + 10_000;
    while (!existsSync(sock) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    const res = await get({ socketPath: sock }, '/metrics?runsc-sandbox-metrics-filter=%5Efs_');
    expect(res.status).toBe(200);
    expect(res.body).toContain(`sandbox="${fleet.sandboxes[0]?.id}"`);
    expectPromtoolAccepts(res.body);
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 240_000);
});
