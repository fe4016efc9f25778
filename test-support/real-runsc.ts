// What the packages' real-runsc tests share: finding runsc and busybox, failing loudly without
// them (a skipped comparison proves nothing), running runsc quietly, and busybox bundles.
// (The e2e suites have their own, fuller harness: e2e/src/runsc.)
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const which = (cmd: string): string | null => {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
};

/** The runsc and busybox binaries, found on PATH once. */
export const runscPath = which('runsc');
export const busyboxPath = which('busybox');

/** Throws (so the suite fails) unless this runs as root with runsc and busybox installed. */
export function requireRunsc(): void {
  if (runscPath === null || busyboxPath === null || process.getuid?.() !== 0) {
    throw new Error(
      'needs root, runsc and busybox: apt-get install -t bookworm-backports runsc; apt-get install busybox-static',
    );
  }
}

/** Runs runsc with stdio ignored (a detached sandbox would keep pipes open); resolves with its exit code. */
export function runRunsc(args: string[], timeoutMs = 30_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(runscPath as string, args, { stdio: 'ignore' });
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`runsc ${args.join(' ')} timed out`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(t);
      resolve(code ?? -1);
    });
  });
}

/**
 * A busybox rootfs (`sh`, `sleep`) in `base/b` with the spec `runsc spec` makes, and a maker of
 * one bundle dir per container sharing it: `bundle(name, argv, annotations)` returns its path.
 */
export function busyboxBundles(
  base: string,
): (name: string, args: readonly string[], annotations?: Record<string, string>) => string {
  const shared = join(base, 'b');
  for (const d of ['bin', 'proc', 'dev', 'sys', 'tmp', 'etc'])
    mkdirSync(join(shared, 'rootfs', d), { recursive: true });
  copyFileSync(busyboxPath as string, join(shared, 'rootfs/bin/busybox'));
  for (const a of ['sleep', 'sh']) symlinkSync('busybox', join(shared, `rootfs/bin/${a}`));
  const spec = spawnSync(runscPath as string, ['spec', '--', '/bin/sleep', '600'], { cwd: shared });
  if (spec.status !== 0) throw new Error(`runsc spec exited ${spec.status}: ${spec.stderr}`);
  const template = JSON.parse(readFileSync(join(shared, 'config.json'), 'utf8'));
  return (name, args, annotations) => {
    const dir = join(base, `b-${name}`);
    mkdirSync(dir);
    symlinkSync(join(shared, 'rootfs'), join(dir, 'rootfs'));
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({ ...template, process: { ...template.process, args }, annotations }),
    );
    return dir;
  };
}
