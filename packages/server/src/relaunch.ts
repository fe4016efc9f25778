// The V8 heap settings the server runs with, applied by its bin, so `npm i` users, the
// image and the DaemonSet all run the same tuned server without setting NODE_OPTIONS.
//
// A scrape at N = 1000 allocates a burst of short-lived garbage: V8 lets its young
// generation grow to 2 x 16 MB for it; capped at 2 x 4 MB, RSS after ~10 scrapes is
// ~120 against ~145 MB, for ~4% more CPU (paired A/B in bench/analysis.md). The old
// generation's 10% growing step keeps it near the live size instead of ~4x it. The young
// generation's size is fixed when the heap is made, so a flag set at run time does
// nothing: the bin re-executes itself once with the flags (execve through koffi, the same
// process id), before loading anything else.
import { createRequire } from 'node:module';

export const HEAP_FLAGS: readonly string[] = ['--max-semi-space-size=4', '--heap-growing-percent=10'];

/** Set in the re-executed process, so a flag node did not take never causes a loop. */
const RELAUNCHED = 'RUNSC_METRIC_SERVER_RELAUNCHED';

const flagName = (flag: string): string => flag.replace(/^--/, '').split('=')[0]!.replace(/_/g, '-');

/** The HEAP_FLAGS the operator did not choose (as node flags or in NODE_OPTIONS, either spelling). */
export function missingHeapFlags(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const given = new Set(
    [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].filter((a) => a.startsWith('--')).map(flagName),
  );
  return HEAP_FLAGS.filter((f) => !given.has(flagName(f)));
}

/** The command line of the re-executed process: node's own flags first, then ours, the script and its arguments. */
export function relaunchArgv(
  execPath: string,
  execArgv: readonly string[],
  flags: readonly string[],
  argv: readonly string[],
): string[] {
  return [execPath, ...execArgv, ...flags, ...argv.slice(1)];
}

interface Libc {
  execve(path: string, argv: (string | null)[], envp: (string | null)[]): number;
  fcntl(fd: number, cmd: number, arg: number): number;
}

const F_SETFD = 2;
const F_GETFL = 3;
const F_SETFL = 4;
const O_NONBLOCK = 0o4000;

/**
 * Re-executes this process with the missing HEAP_FLAGS; returns only when there is nothing
 * to do or it cannot (then the server runs untuned, and says so on stderr). Call first.
 */
export function relaunchTuned(): void {
  if (process.env[RELAUNCHED] !== undefined) {
    delete process.env[RELAUNCHED];
    return;
  }
  const flags = missingHeapFlags(process.execArgv, process.env['NODE_OPTIONS']);
  if (flags.length === 0 || process.argv[1] === undefined) return;
  let libc: Libc;
  try {
    const req = createRequire(typeof __filename === 'string' ? __filename : import.meta.url);
    const koffi = req('koffi') as { load(name: string): { func(signature: string): (...args: unknown[]) => number } };
    const lib = koffi.load('libc.so.6');
    libc = {
      execve: lib.func('int execve(const char *path, const char **argv, const char **envp)') as Libc['execve'],
      fcntl: lib.func('int fcntl(int fd, int cmd, int arg)') as Libc['fcntl'],
    };
  } catch (e) {
    process.stderr.write(
      `runsc-metric-server: running without ${flags.join(' ')}: cannot load koffi/libc (${(e as Error).message})\n`,
    );
    return;
  }
  // Node marks stdin/out/err close-on-exec: the next image must keep them, blocking as they came.
  for (const fd of [0, 1, 2]) {
    libc.fcntl(fd, F_SETFD, 0);
    const fl = libc.fcntl(fd, F_GETFL, 0);
    if (fl >= 0 && (fl & O_NONBLOCK) !== 0) libc.fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  }
  const env = Object.entries({ ...process.env, [RELAUNCHED]: '1' }).map(([k, v]) => `${k}=${v ?? ''}`);
  libc.execve(
    process.execPath,
    [...relaunchArgv(process.execPath, process.execArgv, flags, process.argv), null],
    [...env, null],
  );
  process.stderr.write(
    `runsc-metric-server: running without ${flags.join(' ')}: execve of ${process.execPath} failed\n`,
  );
}
