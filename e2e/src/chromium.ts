// Headless Chromium (Debian's `chromium` package) as a black-box browser:
// the DOM it built and a screenshot. Fails loudly when it is missing.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class MissingChromiumError extends Error {
  constructor(detail: string) {
    super(
      `e2e needs chromium but ${detail}; install it: apt-get install chromium (scripts/install-system-deps.sh does it)`,
    );
    this.name = 'MissingChromiumError';
  }
}

export function requireChromium(): string {
  const r = spawnSync('chromium', ['--version'], { encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw new MissingChromiumError(`\`chromium --version\` failed (${r.error.message})`);
  if (r.status !== 0)
    throw new MissingChromiumError(`\`chromium --version\` exited ${r.status}: ${`${r.stdout}${r.stderr}`.trim()}`);
  return r.stdout.trim();
}

/** No network beyond the page, no profile reuse, no GPU, no sandbox (we run as root). */
const BASE_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--window-size=1280,800',
];

function run(args: string[], timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
  const profile = mkdtempSync(join(tmpdir(), 'chromium-'));
  return new Promise((resolve, reject) => {
    const child = spawn('chromium', [...BASE_FLAGS, `--user-data-dir=${profile}`, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      rmSync(profile, { recursive: true, force: true });
      reject(e);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      rmSync(profile, { recursive: true, force: true });
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`chromium ${args.join(' ')} ended with ${code ?? signal}:\n${stderr.slice(-3000)}`));
    });
  });
}

/** The serialised DOM after load (chromium --dump-dom). */
export async function dumpDom(url: string, timeoutMs = 60_000): Promise<string> {
  return (await run(['--dump-dom', url], timeoutMs)).stdout;
}

/** Writes a PNG screenshot of the page at 1280x800. */
export async function screenshot(url: string, file: string, timeoutMs = 60_000): Promise<void> {
  await run([`--screenshot=${file}`, url], timeoutMs);
}
