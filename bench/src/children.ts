// Child processes the bench starts and stops: the fake fleet CLI and metric
// servers. Each handle owns its ChildProcess; stop() is idempotent.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export class BenchError extends Error {
  override name = 'BenchError';
}

/** The repo root: bench/.build/main.js or bench/src/*.ts -> two levels up. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The file a workspace package publishes as `bin[name]`, checked to exist (built). */
export function workspaceBin(pkgDir: string, binName: string): string {
  const pkgJson = join(REPO_ROOT, 'packages', pkgDir, 'package.json');
  const pkg = JSON.parse(readFileSync(pkgJson, 'utf8')) as { bin?: Record<string, string> | string };
  const rel = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin?.[binName];
  if (rel === undefined)
    throw new BenchError(`${pkgJson} declares no bin "${binName}"; is packages/${pkgDir} finished?`);
  const file = join(REPO_ROOT, 'packages', pkgDir, rel);
  if (!existsSync(file)) throw new BenchError(`${file} is missing: run \`pnpm build\` at the repo root first`);
  return file;
}

export interface Child {
  readonly pid: number;
  readonly proc: ChildProcess;
  stop(): Promise<void>;
}

function track(proc: ChildProcess, what: string, logFile: string): Child {
  const log = createWriteStream(logFile, { flags: 'a' });
  proc.stdout?.pipe(log, { end: false });
  proc.stderr?.pipe(log, { end: false });
  const exited = new Promise<void>((res) => proc.once('exit', () => res()));
  let stopping: Promise<void> | undefined;
  if (proc.pid === undefined) throw new BenchError(`could not start ${what}`);
  return {
    pid: proc.pid,
    proc,
    stop: () => {
      stopping ??= (async () => {
        if (proc.exitCode === null && proc.signalCode === null) {
          proc.kill('SIGTERM');
          // Unref'd (as the ready timeout below): a pending guard timer must not keep the bench alive after its work.
          const done = await Promise.race([
            exited.then(() => true),
            sleep(15_000, undefined, { ref: false }).then(() => false),
          ]);
          if (!done) {
            proc.kill('SIGKILL');
            await exited;
          }
        }
        log.end();
      })();
      return stopping;
    },
  };
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-5).join(' | ');
  } catch {
    return '(no log)';
  }
}

export interface FleetSpec {
  readonly root: string;
  readonly address: string;
  readonly count: number;
  readonly stalled: number;
  readonly hosts: number;
  readonly logFile: string;
}

/** Starts `fake-sandbox fleet` and resolves once it printed its ready line. */
export async function startFleet(cli: string, f: FleetSpec): Promise<Child> {
  const args = [
    cli,
    'fleet',
    '--root',
    f.root,
    '--metric-server',
    f.address,
    '--count',
    String(f.count),
    '--hosts',
    String(f.hosts),
    '--seed',
    '7',
  ];
  if (f.stalled > 0) args.push('--behaviour', `no-answer=${f.stalled}`);
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const ready = new Promise<void>((res, rej) => {
    let seen = '';
    proc.stdout?.on('data', (d: Buffer) => {
      seen += d.toString();
      if (seen.includes('fleet ready')) res();
    });
    proc.once('exit', (code) =>
      rej(new BenchError(`fleet exited with ${code} before it was ready: ${tail(f.logFile)}`)),
    );
  });
  const child = track(proc, 'the fake fleet', f.logFile);
  // Unref'd: a ref'd 120 s timer kept every bench run alive for up to 2 minutes after its last fleet started.
  const timeout = sleep(120_000, undefined, { ref: false }).then(() => {
    throw new BenchError(`fleet of ${f.count} not ready within 120 s`);
  });
  try {
    await Promise.race([ready, timeout]);
  } catch (e) {
    await child.stop();
    throw e;
  }
  return child;
}

export interface ServerSpec {
  /** argv[0] and the leading args (e.g. node flags + the bin). */
  readonly command: string;
  readonly args: readonly string[];
  readonly address: string;
  readonly logFile: string;
  /** Added to the bench's environment. */
  readonly env?: Readonly<Record<string, string>>;
}

/** Starts a metric server and resolves once its address accepts connections (polled every `pollMs`). */
export async function startServer(s: ServerSpec, pollMs = 50): Promise<Child> {
  const proc = spawn(s.command, [...s.args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...s.env } });
  const child = track(proc, s.command, s.logFile);
  const t0 = Date.now();
  while (Date.now() - t0 < 30_000) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new BenchError(
        `${s.command} exited (${proc.exitCode ?? proc.signalCode}) before it listened: ${tail(s.logFile)}`,
      );
    }
    if (await canConnect(s.address)) return child;
    await sleep(pollMs);
  }
  await child.stop();
  throw new BenchError(`${s.command} did not listen on ${s.address} within 30 s: ${tail(s.logFile)}`);
}

function canConnect(address: string): Promise<boolean> {
  return new Promise((res) => {
    const sock = address.startsWith('/')
      ? connect(address)
      : connect(Number(address.split(':')[1]), address.split(':')[0]);
    sock.once('connect', () => {
      sock.destroy();
      res(true);
    });
    sock.once('error', () => res(false));
  });
}

/** A TCP port free right now on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    import('node:net').then(({ createServer }) => {
      const srv = createServer();
      srv.once('error', rej);
      srv.listen(0, '127.0.0.1', () => {
        const addr = srv.address();
        const port = typeof addr === 'object' && addr ? addr.port : 0;
        srv.close(() => res(port));
      });
    }, rej);
  });
}
