// Per-key promise queues: two concurrent scrapes never interleave one
// sandbox's export and verification (its Verifier compares each snapshot with
// the last accepted one, so order matters).

import { raceAbort } from './deadline.js';

export class KeyedQueue<K extends object> {
  /** Tail of each key's chain; a key's entry is only replaced by run() and dropped by GC with the key. */
  private readonly tails = new WeakMap<K, Promise<void>>();

  /**
   * Runs `fn` after every earlier run() of `key` has settled. Waiting and the
   * run itself are cut short by `signal`; the chain is released only when `fn`
   * has really settled, so an abandoned run still blocks its successors.
   */
  async run<T>(key: K, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    this.tails.set(key, prev.then(() => mine));
    try {
      await raceAbort(prev, signal);
    } catch (e) {
      release();
      throw e;
    }
    let p: Promise<T>;
    try {
      p = fn();
    } catch (e) {
      release();
      throw e;
    }
    // Not p.then(release, release): that would resolve the chain's tail with the
    // Snapshot and keep it alive until this key's next run.
    p.then(
      () => release(),
      () => release(),
    );
    return raceAbort(p, signal);
  }
}
