// Build contexts for FROM-scratch images (no registry is reachable): a host
// binary plus exactly the shared libraries `ldd` says it loads, at the same paths.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A fresh build context dir with an empty rootfs/ and a Dockerfile that copies it to /. */
export function makeContext(prefix: string, dockerfileTail: string): { dir: string; rootfs: string } {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const rootfs = join(dir, 'rootfs');
  mkdirSync(join(rootfs, 'tmp'), { recursive: true });
  chmodSync(join(rootfs, 'tmp'), 0o1777);
  writeFileSync(join(dir, 'Dockerfile'), `FROM scratch\nCOPY rootfs/ /\n${dockerfileTail}\n`);
  return { dir, rootfs };
}

/** Absolute paths of the shared objects (and the loader) `ldd` lists; [] for a static binary. */
export function sharedLibs(path: string): string[] {
  const r = spawnSync('ldd', [path], { encoding: 'utf8' });
  if (r.error) throw new Error(`ldd could not run (${r.error.message}); it ships with libc-bin`);
  const out = `${r.stdout}${r.stderr}`;
  if (/not a dynamic executable|statically linked/.test(out)) return [];
  if (r.status !== 0) throw new Error(`ldd ${path} exited ${r.status}: ${out}`);
  const libs: string[] = [];
  for (const line of out.split('\n')) {
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m?.[1]) libs.push(m[1]);
    else if (/not found/.test(line)) throw new Error(`ldd ${path}: ${line.trim()}`);
  }
  return libs;
}

/** Copies a file (symlinks followed) to the same absolute path under rootfs. */
export function copyIn(rootfs: string, hostPath: string, imagePath = hostPath): void {
  const dest = join(rootfs, imagePath);
  mkdirSync(dirname(dest), { recursive: true });
  copyFileSync(hostPath, dest);
  chmodSync(dest, 0o755);
}

/** The binary at `imagePath` plus its libraries at their host paths. */
export function copyBinaryWithLibs(rootfs: string, hostPath: string, imagePath = hostPath): void {
  copyIn(rootfs, hostPath, imagePath);
  for (const lib of sharedLibs(hostPath)) copyIn(rootfs, lib);
}

/** `docker rmi -f` (best effort): images are built per run and must not pile up. */
export function removeImage(tag: string): void {
  spawnSync('docker', ['rmi', '-f', tag], { stdio: 'ignore', timeout: 30_000 });
}
