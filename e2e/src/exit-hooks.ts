// Last-resort cleanup when a suite dies mid-way (uncaught error, worker torn
// down): synchronous hooks run on process exit and on fatal signals, so no real
// sandbox, server or container outlives the test process. Owned by this module:
// the hook set is only mutated by addExitHook / the returned remover.
type Hook = () => void;

const hooks = new Set<Hook>();
let installed = false;

function runAll(): void {
  for (const h of [...hooks]) {
    hooks.delete(h);
    try {
      h();
    } catch {
      // best effort: one failed hook must not stop the others
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      runAll();
      process.kill(process.pid, sig);
    });
  }
}

/** Registers a synchronous hook; call the returned function once cleaned up normally. */
export function addExitHook(hook: Hook): () => void {
  install();
  hooks.add(hook);
  return () => {
    hooks.delete(hook);
  };
}
