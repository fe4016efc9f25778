// Where the built CLI lives: the "bin" of the server package as installed in
// this workspace (e2e/node_modules link), so the suites run what users run.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SERVER_PKG = '@org/metricserver-server';
export const SERVER_BIN_NAME = 'runsc-metric-server';

/** Directory of the server package (resolved through the workspace link). */
export function serverPackageDir(): string {
  const e2eDir = dirname(dirname(fileURLToPath(import.meta.url)));
  const dir = join(e2eDir, 'node_modules', ...SERVER_PKG.split('/'));
  if (!existsSync(join(dir, 'package.json'))) {
    throw new Error(`${SERVER_PKG} is not linked into e2e/node_modules; run \`pnpm install\` at the repo root`);
  }
  return dir;
}

/**
 * Absolute path of the built CLI entry; throws with the build command when absent.
 * E2E_SERVER_BIN overrides it (e.g. to run the suites against another build).
 */
export function serverBinPath(): string {
  const override = process.env.E2E_SERVER_BIN;
  if (override) {
    if (!existsSync(override)) throw new Error(`E2E_SERVER_BIN=${override} does not exist`);
    return override;
  }
  const dir = serverPackageDir();
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { bin?: string | Record<string, string> };
  const rel = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin?.[SERVER_BIN_NAME];
  if (!rel) throw new Error(`${SERVER_PKG}/package.json has no "bin" entry ${SERVER_BIN_NAME}`);
  const abs = join(dir, rel);
  if (!existsSync(abs))
    throw new Error(`the server CLI ${abs} is not built; run \`pnpm turbo build\` at the repo root`);
  return abs;
}
