// The README's demo, non-interactively (--once): it prints a curl line and an
// excerpt, and removes the temporary root it created.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const pkgDir = fileURLToPath(new URL('../../', import.meta.url));

describe('demo', () => {
  it('runs once: fleet, server, curl line, excerpt with the broken count, then cleans up', () => {
    for (const built of [`${pkgDir}dist/index.js`, `${pkgDir}../fake-sandbox/dist/index.js`]) {
      if (!existsSync(built))
        throw new Error(`${built} is missing: run \`pnpm turbo build\` first (npm test and npm run demo do)`);
    }
    const r = spawnSync(process.execPath, [`${pkgDir}scripts/demo.mjs`, '--once'], {
      encoding: 'utf8',
      timeout: 90_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const curl = /curl -s http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(r.stdout);
    expect(curl, r.stdout).not.toBeNull();
    expect(r.stdout).toMatch(/^ {2}runsc_meta_num_sandboxes_broken_metrics 3 \d+$/m);
    expect(r.stdout).toMatch(/^ {2}runsc_meta_num_sandboxes_running 23 \d+$/m);
    expect(r.stdout).toMatch(/^ {2}runsc_fs_opens\{/m);
    const root = /Removed (\S+) /.exec(r.stdout)?.[1];
    expect(root).toBeDefined();
    expect(existsSync(root as string)).toBe(false);
  }, 120_000);
});
