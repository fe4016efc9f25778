// "Does this sandbox want this server?" and "is its process alive?" (runsc semantics).

export const RUNTIME_ROOT_PLACEHOLDER = '%RUNTIME_ROOT%';

/** Replaces every `%RUNTIME_ROOT%` with `root` (`%ID%` is never substituted: runsc does not either). */
export function substituteRuntimeRoot(address: string, root: string): string {
  return address.replaceAll(RUNTIME_ROOT_PLACEHOLDER, root);
}

/**
 * Exact string equality after substitution on both sides (no path normalisation, like runsc).
 * An empty stored address means the sandbox asked for no metric server: never a match.
 */
export function addressMatches(storedAddress: string, serverAddress: string, root: string): boolean {
  if (storedAddress === '') return false;
  return substituteRuntimeRoot(storedAddress, root) === substituteRuntimeRoot(serverAddress, root);
}

/**
 * runsc's liveness test: pid 0 is "no process"; otherwise kill(pid, 0) must succeed, and
 * ANY error (ESRCH, but also EPERM) means not running. Negative pids are refused outright:
 * kill(-n, 0) would probe a process group.
 */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
