// Runs the built CLI as a child process (black box): free port or unix socket,
// waits for the healthcheck, keeps stderr, and stops it by signal.
import { type ChildProcess, spawn } from 'node:child_process';
import { addExitHook } from './exit-hooks.js';
import { freePort } from './free-port.js';
import { describeTarget, httpGet, type ScrapeTarget, targetFromAddress } from './scrape.js';
import { serverBinPath } from './server-bin.js';

export interface StartServerOptions {
  /** --root of the server. */
  root: string;
  /** --metric-server value; default 127.0.0.1:<free port>. */
  address?: string;
  /** Subcommand flags after `metric-server` (e.g. --allow-unknown-root, --pid-file=...). */
  flags?: string[];
  /** Replaces the whole argv (for CLI error tests); root/address then only describe the target. */
  argv?: string[];
  env?: NodeJS.ProcessEnv;
  /** false: return at once (tests of start-up failures await `exited`). */
  waitReady?: boolean;
  readyTimeoutMs?: number;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunningServer {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly root: string;
  /** The --metric-server value as given (before %RUNTIME_ROOT% substitution). */
  readonly address: string;
  /** Where to send HTTP requests (%RUNTIME_ROOT% substituted). */
  readonly target: ScrapeTarget;
  /** Everything the server wrote to stderr and stdout so far. */
  output(): string;
  /** Resolves once the process has exited (never rejects). */
  readonly exited: Promise<ExitStatus>;
  /** Sends `signal` (default SIGTERM) and awaits exit; SIGKILL after `graceMs`. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<ExitStatus>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function startServer(opts: StartServerOptions): Promise<RunningServer> {
  const address = opts.address ?? `127.0.0.1:${await freePort()}`;
  const argv = opts.argv ?? [
    `--root=${opts.root}`,
    `--metric-server=${address}`,
    'metric-server',
    ...(opts.flags ?? []),
  ];
  const child = spawn(process.execPath, [serverBinPath(), ...argv], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
  });
  // Output is owned by these two listeners; readers get a joined copy.
  const out: string[] = [];
  child.stdout?.setEncoding('utf8').on('data', (s: string) => out.push(s));
  child.stderr?.setEncoding('utf8').on('data', (s: string) => out.push(s));
  let exitStatus: ExitStatus | undefined;
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('exit', (code, signal) => {
      exitStatus = { code, signal };
      resolve(exitStatus);
    });
    child.once('error', () => {
      exitStatus ??= { code: null, signal: null };
      resolve(exitStatus);
    });
  });
  const removeHook = addExitHook(() => {
    if (exitStatus === undefined) child.kill('SIGKILL');
  });
  void exited.then(removeHook);

  const target = targetFromAddress(address.replaceAll('%RUNTIME_ROOT%', opts.root));
  const server: RunningServer = {
    child,
    pid: child.pid ?? -1,
    root: opts.root,
    address,
    target,
    output: () => out.join(''),
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000) {
      if (exitStatus) return exitStatus;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const st = await exited;
      clearTimeout(timer);
      return st;
    },
  };
  if (opts.waitReady === false) return server;

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 20_000);
  const healthPath = `/runsc-metrics/healthcheck?root=${encodeURIComponent(opts.root)}`;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (exitStatus) {
      throw new Error(
        `server exited (${JSON.stringify(exitStatus)}) before it was healthy; output:\n${server.output()}`,
      );
    }
    try {
      const res = await httpGet(target, healthPath, { timeoutMs: 2_000 });
      // Ready = healthy and start-up finished: the server binds (and so answers) before it chmods its
      // socket and writes the pid file, and logs "Server serving" once both are done (Go: same words).
      if (res.status === 200 && res.body.startsWith('runsc-metrics:OK') && /Server serving/.test(server.output())) {
        return server;
      }
      last = `${res.status} ${res.body}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await sleep(50);
  }
  await server.stop('SIGKILL');
  throw new Error(
    `server on ${describeTarget(target)} not healthy within the timeout (last: ${last}); output:\n${server.output()}`,
  );
}
