// Profiling for --allow-profiling: a V8 CPU profile (.cpuprofile JSON, opens in
// Chrome DevTools) through node:inspector, and a heap snapshot stream. Go serves
// pprof; a Node server cannot, so the routes keep Go's status behaviour with
// Node's own formats.

import { Session } from 'node:inspector';
import type { Readable } from 'node:stream';
import { getHeapSnapshot } from 'node:v8';

export interface Profiler {
  /** Whether a CPU profile is running now (only one at a time, as in Go). */
  readonly cpuBusy: boolean;
  /** Profiles the CPU until `durationMs` elapses or `signal` aborts; the .cpuprofile JSON. */
  cpuProfile(durationMs: number, signal: AbortSignal): Promise<{ json: string; interrupted: boolean }>;
  heapSnapshot(): Readable;
}

export function createProfiler(): Profiler {
  // Owned by the one cpuProfile() call in progress; cleared in its finally.
  let busy = false;
  return {
    get cpuBusy() {
      return busy;
    },
    async cpuProfile(durationMs, signal) {
      if (busy) throw new Error('a CPU profile is already running');
      busy = true;
      const session = new Session();
      session.connect();
      const post = <T>(method: string, params?: object): Promise<T> =>
        new Promise((resolve, reject) =>
          session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res as T))),
        );
      try {
        await post('Profiler.enable');
        await post('Profiler.start');
        const interrupted = await sleepUnlessAborted(Math.max(0, durationMs), signal);
        const { profile } = await post<{ profile: unknown }>('Profiler.stop');
        return { json: JSON.stringify(profile), interrupted };
      } finally {
        session.disconnect();
        busy = false;
      }
    },
    heapSnapshot: () => getHeapSnapshot(),
  };
}

/** Resolves true when aborted first, false when the time elapsed. */
function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(false);
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Go's rule: `seconds` as an integer if seconds*1s < 60s (zero or negative: stop at once), else 60s - 250ms. */
export function cpuProfileDurationMs(secondsParam: string): number {
  const DEFAULT_MS = 60_000 - 250;
  if (!/^[+-]?\d+$/.test(secondsParam)) return DEFAULT_MS;
  const s = Number(secondsParam);
  if (!Number.isSafeInteger(s) || s * 1000 >= 60_000) return DEFAULT_MS;
  return Math.max(0, s * 1000);
}
