// Per-key promise queues: two concurrent scrapes never interleave one
// sandbox's export and verification (its Verifier compares each snapshot with
// the last accepted one, so order matters).

import { asError, raceAbort } from './deadline.js';

export class KeyedQueue<K extends object> {
  /**
   * Each key's last run, and whether it has settled; an entry is only replaced by run()
   * (settled flipped by that run's own release) and dropped by GC with the key.
   */
  private readonly tails = new WeakMap<K, Tail>();

  /**
   * Runs `fn` after every earlier run() of `key` has settled. Waiting and the
   * run itself are cut short by `signal`; the chain is released only when `fn`
   * has really settled, so an abandoned run still blocks its successors.
   */
  run<T>(key: K, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key);
    let release!: () => void;
    const tail: Tail = { done: new Promise<void>((r) => (release = r)), settled: false };
    const settle = (): void => {
      tail.settled = true;
      release();
    };
    this.tails.set(key, tail);
    // The common case: nothing of this key still runs, so no wait (no promise, no listener).
    if (prev === undefined || prev.settled) {
      if (signal.aborted) {
        settle();
        return Promise.reject(asError(signal.reason));
      }
      return this.start(fn, signal, settle);
    }
    return raceAbort(prev.done, signal).then(
      () => this.start(fn, signal, settle),
      (e: unknown) => {
        // Our turn never came, but our successors may still wait for our predecessor.
        void prev.done.then(settle);
        throw e;
      },
    );
  }

  private start<T>(fn: () => Promise<T>, signal: AbortSignal, settle: () => void): Promise<T> {
    let p: Promise<T>;
    try {
      p = fn();
    } catch (e) {
      settle();
      return Promise.reject(e);
    }
    // Not p.then(settle, settle): that would resolve the chain's tail with the
    // Snapshot and keep it alive until this key's next run.
    p.then(
      () => settle(),
      () => settle(),
    );
    return raceAbort(p, signal);
  }
}

interface Tail {
  /** Resolves (with nothing) when the run has settled. */
  readonly done: Promise<void>;
  /** Set when `done` resolves: read synchronously by the next run(). */
  settled: boolean;
}
