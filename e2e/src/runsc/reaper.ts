// Sandbox processes are orphaned as soon as `runsc run --detach` exits. On a
// real node a subreaper (containerd-shim, systemd) reaps them; in a container
// whose PID 1 does not reap, a SIGKILLed sandbox stays a zombie and
// kill(pid, 0) keeps saying "alive" to any metric server. So the test process
// becomes the subreaper for the sandboxes it starts and reaps the orphans that
// land on it: only zombies whose comm is `exe` (runsc-sandbox, runsc-gofer and
// their stubs re-exec /proc/self/exe), never waitpid(-1), which would steal the
// exit status of node's own children (libuv then never emits 'exit').
import { readdirSync, readFileSync } from 'node:fs';
import koffi from 'koffi';

const PR_SET_CHILD_SUBREAPER = 36;
const WNOHANG = 1;

interface Libc {
  prctl: (option: number, arg2: number, arg3: number, arg4: number, arg5: number) => number;
  waitpid: (pid: number, status: Int32Array | null, options: number) => number;
}

let libc: Libc | undefined;

function load(): Libc {
  if (!libc) {
    const lib = koffi.load('libc.so.6');
    libc = {
      prctl: lib.func('int prctl(int, unsigned long, unsigned long, unsigned long, unsigned long)') as Libc['prctl'],
      waitpid: lib.func('int waitpid(int, _Out_ int *, int)') as Libc['waitpid'],
    };
  }
  return libc;
}

/** Makes this process the reaper of orphans it starts (idempotent). */
export function becomeSubreaper(): void {
  if (load().prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) !== 0) {
    throw new Error(`prctl(PR_SET_CHILD_SUBREAPER) failed (errno ${koffi.errno()})`);
  }
}

/** Reaps every zombie child of this process whose comm is `exe`; returns how many. */
export function reapSandboxOrphans(): number {
  const self = String(process.pid);
  let n = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const [state, ppid] = stat.slice(close + 2).split(' ');
    if (ppid === self && state === 'Z' && comm === 'exe') {
      if (load().waitpid(Number(name), new Int32Array(1), WNOHANG) > 0) n++;
    }
  }
  return n;
}

/** Reaps sandbox orphans every `ms` until the returned stop function is called. */
export function startReaping(ms = 50): () => void {
  const t = setInterval(reapSandboxOrphans, ms);
  t.unref();
  return () => clearInterval(t);
}
