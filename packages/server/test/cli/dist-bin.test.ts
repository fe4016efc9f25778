// The built bin (dist/bin.js, what e2e and users run) in its own process on a
// unix socket, against a real fake fleet: flock goes through the pnpm-symlinked
// koffi. Guards a Node 20 quirk: a plain synchronous stat of the socket file
// made later CommonJS resolution skip realpath, so koffi could not find its
// native module and every sandbox failed to load ("flock(2) is unavailable").
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createFleet } from '@org/metricserver-fake-sandbox';
import { describe, expect, it } from 'vitest';
import { get } from '../support/http-client.js';
import { expectPromtoolAccepts } from '../support/promtool.js';
import { onCleanup, tempDir } from '../support/server.js';

const bin = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));

describe('dist/bin.js', () => {
  it('serves a fleet on a unix socket from its own process', async () => {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`pnpm turbo build\` first (npm test does)`);
    const dir = tempDir();
    const sock = `${dir}/m.sock`;
    const fleet = await createFleet({ root: dir, metricServer: sock, count: 2 });
    onCleanup(() => fleet.close());
    const child = spawn(process.execPath, [bin, '--root', dir, '--metric-server', sock], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    onCleanup(() => void child.kill('SIGKILL'));
    const end = Date.now() + 10_000;
    while (!existsSync(sock) && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
    const res = await get({ socketPath: sock }, '/metrics');
    expect(res.status).toBe(200);
    expectPromtoolAccepts(res.body);
    expect(stderr).not.toContain('flock(2) is unavailable');
    for (const sb of fleet.sandboxes)
      expect(res.body).toMatch(new RegExp(`runsc_meta_sandbox_running\\{[^}]*sandbox="${sb.id}"\\} 1 `));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
