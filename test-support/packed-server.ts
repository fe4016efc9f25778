// The server package as a user gets it from `npm i @org/metricserver-server`: the
// tarball `pnpm pack` makes of packages/server (what a publish ships), installed by npm
// into an empty directory. npm runs offline: the package's npm dependencies are given
// as tarballs packed from the workspace's own copies (the lockfile's versions), since
// tests may not reach a registry and a new machine's npm cache is empty. The pack
// test, the e2e container image and the bench all install the server this one way.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SERVER_PACKAGE = '@org/metricserver-server';
export const SERVER_BIN = 'runsc-metric-server';
const workspaceServerDir = fileURLToPath(new URL('../packages/server/', import.meta.url));

export interface PackedServer {
  /** The directory npm installed into (its node_modules holds the server and its dependencies). */
  readonly dir: string;
  /** `node_modules/.bin/runsc-metric-server`: what an operator runs. */
  readonly bin: string;
  /** The installed package's directory. */
  readonly packageDir: string;
  /** The bin's script inside the installed package (for runners that start node themselves). */
  readonly entry: string;
}

interface Manifest {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  bin?: string | Record<string, string>;
}

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    timeout: 180_000,
    env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' },
  });
  if (r.error) throw new Error(`${cmd} could not be started: ${r.error.message}`);
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

const manifestOf = (dir: string): Manifest => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;

/** The installed copy of `name` that code in `from` resolves (node's lookup: up through node_modules). */
function dependencyDir(from: string, name: string): string | undefined {
  for (let d = from; ; d = dirname(d)) {
    const candidate = join(d, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dirname(d) === d) return undefined;
  }
}

/**
 * The production dependency closure of the package in `dir`, by name (one version each, as
 * the lockfile has). Optional dependencies come when installed here: koffi's native module
 * is one (`@koromix/koffi-linux-x64`); without it npm would build koffi from source.
 */
function productionClosure(dir: string): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (from: string): void => {
    const m = manifestOf(from);
    const optional = new Set(Object.keys(m.optionalDependencies ?? {}));
    for (const name of [...Object.keys(m.dependencies ?? {}), ...optional]) {
      if (found.has(name)) continue;
      const at = dependencyDir(from, name);
      if (at === undefined) {
        if (optional.has(name)) continue; // another platform's
        throw new Error(`${name} (a dependency of ${from}) is not installed: run \`pnpm install\``);
      }
      found.set(name, at);
      walk(at);
    }
  };
  walk(realpathSync(dir));
  return found;
}

/** `npm pack` of a plain copy of `dir` (npm fails without a message on some packages inside pnpm's store). */
function packCopy(dir: string, work: string): string {
  const copy = mkdtempSync(join(work, 'src-'));
  cpSync(dir, copy, { recursive: true, dereference: true });
  const out = JSON.parse(
    run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work, copy], work),
  ) as {
    filename: string;
  }[];
  return join(work, out[0]!.filename);
}

/**
 * Installs the built server package into `dir` (created empty; must not exist or be empty)
 * the way `npm i` does, offline. Needs `pnpm turbo build` first. `serverDir`: another
 * checkout's packages/server (the bench's A/B runs), this workspace's by default.
 */
export function installPackedServer(dir: string, serverDir = workspaceServerDir): PackedServer {
  if (!existsSync(join(serverDir, 'dist', 'bin.js'))) {
    throw new Error(`${join(serverDir, 'dist', 'bin.js')} is missing: run \`pnpm turbo build\` first (npm test does)`);
  }
  const work = mkdtempSync(join(tmpdir(), 'ms-packed-'));
  try {
    const manifest = manifestOf(serverDir);
    run('pnpm', ['pack', '--pack-destination', work], serverDir);
    const tarballs = [join(work, `org-metricserver-server-${manifest.version}.tgz`)];
    for (const depDir of productionClosure(serverDir).values()) tarballs.push(packCopy(depDir, work));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{"name":"app","version":"1.0.0","private":true}\n');
    run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--omit=dev', ...tarballs], dir);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const packageDir = join(dir, 'node_modules', ...SERVER_PACKAGE.split('/'));
  const installed = manifestOf(packageDir);
  const rel = typeof installed.bin === 'string' ? installed.bin : installed.bin?.[SERVER_BIN];
  if (rel === undefined) throw new Error(`${SERVER_PACKAGE} has no "bin" ${SERVER_BIN}`);
  const bin = join(dir, 'node_modules', '.bin', SERVER_BIN);
  if (!existsSync(bin)) throw new Error(`npm did not link ${bin}`);
  return { dir, bin, packageDir, entry: join(packageDir, rel) };
}
