// Per-key promise queues: two concurrent scrapes never interleave one
// sandbox's export and verification (its Verifier compares each snapshot with
// the last accepted one, so order matters).

import type { CallCut } from '@org/metricserver-core';
import { asError, raceCut } from './deadline.js';

export class KeyedQueue<K extends object> {
  /**
   * Each key's last run; an entry is only replaced by run() (settled by that run's own
   * settle()) and dropped by GC with the key.
   */
  private readonly tails = new WeakMap<K, Tail>();

  /**
   * Runs `fn` after every earlier run() of `key` has settled. Waiting and the
   * run itself are cut short by `cut`; the chain is released only when `fn`
   * has really settled, so an abandoned run still blocks its successors. Never throws:
   * `fn` throwing rejects the returned promise.
   * Per run at 1000 sandboxes a scrape: one Tail and its settle closure; a promise
   * to wait on only when a run of the same key is still going.
   */
  run<T>(key: K, cut: CallCut, fn: () => Promise<T>, settlesOnCut = false): Promise<T> {
    const prev = this.tails.get(key);
    const tail = new Tail();
    this.tails.set(key, tail);
    // The common case: nothing of this key still runs, so no wait (no promise, no listener).
    if (prev === undefined || prev.settled) {
      if (cut.isCut) {
        tail.settle();
        return Promise.reject(asError(cut.cutReason));
      }
      return this.start(fn, cut, tail, settlesOnCut);
    }
    const turn = prev.done();
    return raceCut(turn, cut).then(
      () => this.start(fn, cut, tail, settlesOnCut),
      (e: unknown) => {
        // Our turn never came, but our successors may still wait for our predecessor.
        void turn.then(tail.settle);
        throw e;
      },
    );
  }

  /**
   * Runs `fn` now. Its promise is raced against `cut` unless `settlesOnCut` says `fn`'s own
   * promise rejects when cut (a urpc call registered with the cut): then that race was a
   * promise, an executor and three callbacks per call kept alive until the call settled.
   */
  private start<T>(fn: () => Promise<T>, cut: CallCut, tail: Tail, settlesOnCut: boolean): Promise<T> {
    let p: Promise<T>;
    try {
      p = fn();
    } catch (e) {
      tail.settle();
      return Promise.reject(e);
    }
    // Not p.then(settle) alone: the chain's tail must not hold the Snapshot until this
    // key's next run, and settle() takes no value.
    p.then(tail.settle, tail.settle);
    return settlesOnCut ? p : raceCut(p, cut);
  }
}

/** One run of a key, as its successor sees it. Settled once, by settle(). */
class Tail {
  /** Set when the run has settled: read synchronously by the next run(). */
  settled = false;
  /** Resolvers of runs waiting for this one (made only when one waits). */
  private waiters: (() => void)[] | null = null;

  /** Marks the run settled and lets its waiters go. Takes (and keeps) no value. */
  readonly settle = (): void => {
    if (this.settled) return;
    this.settled = true;
    const w = this.waiters;
    this.waiters = null;
    if (w !== null) for (const go of w) go();
  };

  /** Resolves (with nothing) once the run has settled. */
  done(): Promise<void> {
    if (this.settled) return Promise.resolve();
    return new Promise<void>((resolve) => (this.waiters ??= []).push(resolve));
  }
}
