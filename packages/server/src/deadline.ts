// Deadlines as AbortSignals with explicit disposal (no timers or listeners left
// behind per sandbox per scrape), and racing a promise against one.

import { type CallCut, ExpectedError } from '@org/metricserver-core';

export class DeadlineError extends ExpectedError {
  constructor(message: string) {
    super(message);
    this.name = 'DeadlineError';
  }
}

export interface Deadline {
  readonly signal: AbortSignal;
  dispose(): void;
}

/** A signal aborted after `ms` (reason: DeadlineError(what)) or when `parent` aborts (its reason). */
export function deadline(parent: AbortSignal, ms: number, what: string): Deadline {
  const group = new DeadlineGroup(parent, ms, what);
  const d = group.child();
  return {
    signal: d.signal,
    dispose: () => {
      d.dispose();
      group.dispose();
    },
  };
}

/**
 * The CallCut mechanism the scrape's deadlines share: callbacks in a Set (O(1) to add and
 * remove), run once with one reason when cut. Subclasses decide when to cut().
 */
abstract class CutBase implements CallCut {
  private readonly callbacks = new Set<(reason: unknown) => void>();
  private done = false;
  private reason: unknown;

  get isCut(): boolean {
    return this.done;
  }

  get cutReason(): unknown {
    return this.reason;
  }

  /**
   * A failed call's error as the scrape reports it: once this is cut, the cut's reason
   * (a DeadlineError), whatever the call itself rejected with (a call that settles on the
   * cut says UrpcTimeout); else the call's own error. One function per cut, shared by its calls.
   */
  readonly failure = (e: unknown): Error => asError(this.done ? this.reason : e);

  /** Runs `cb(reason)` once when cut; at once when already cut. */
  onCut(cb: (reason: unknown) => void): void {
    if (this.done) cb(this.reason);
    else this.callbacks.add(cb);
  }

  offCut(cb: (reason: unknown) => void): void {
    this.callbacks.delete(cb);
  }

  /** Cuts once; later calls do nothing. A callback may offCut() itself or others meanwhile (a Set allows that). */
  protected cut(reason: unknown): void {
    if (this.done) return;
    this.done = true;
    this.reason = reason;
    this.stop();
    for (const cb of this.callbacks) cb(reason);
    this.callbacks.clear();
  }

  /** Releases what would cut it later (timers, listeners); called by cut() and by owners. */
  protected abstract stop(): void;
}

/**
 * The per-sandbox deadlines of one scrape, all cut when the scrape's signal aborts (with
 * its reason) or, when the group has a timer of its own, when that fires (with one shared
 * DeadlineError). One listener on the parent and at most one timer fan out to every
 * member: node's EventTarget walks its whole listener list on every add and remove, so
 * 1000 deadlines listening on the parent themselves cost O(n^2) (~6 ms per scrape at 1000),
 * and 500 stalled sandboxes sharing one deadline need one timer and one error, not 500.
 * The group is itself a CallCut: the sandboxes of a scrape's first wave register with it
 * directly (no AbortController per sandbox). Owned by the scrape that made it.
 */
export class DeadlineGroup extends CutBase {
  private readonly timer: NodeJS.Timeout | undefined;
  /** With a timer of its own it is sure to be cut: calls under it need no timer each. */
  readonly bounded: boolean;
  private readonly onParent = (): void => this.cut(this.parent.reason);

  /** With `ms`, the group's own deadline: after `ms` the group is cut with DeadlineError(what). */
  constructor(
    private readonly parent: AbortSignal,
    ms?: number,
    what = 'deadline exceeded',
  ) {
    super();
    this.bounded = ms !== undefined;
    if (parent.aborted) {
      this.cut(parent.reason);
      return;
    }
    parent.addEventListener('abort', this.onParent, { once: true });
    if (ms !== undefined) this.timer = setTimeout(() => this.cut(new DeadlineError(what)), Math.max(0, ms));
  }

  /** A CallCut cut with the group or after `ms` with DeadlineError(what); dispose() it when done. */
  timed(ms: number, what: string): TimedCut {
    return new TimedCut(this, ms, what);
  }

  /** An AbortSignal cut with the group (its timer or its parent), for APIs that take a signal. */
  child(): Deadline {
    const c = new AbortController();
    const abort = (reason: unknown): void => c.abort(reason);
    this.onCut(abort);
    return { signal: c.signal, dispose: () => this.offCut(abort) };
  }

  /**
   * Stops listening on the parent and stops the group's timer. A group with a timer
   * promised its members a cut (calls under it arm no timer of their own), so members
   * still registered are cut now, with a DeadlineError; normally there are none (a scrape
   * disposes its groups after every query has settled). Without a timer, members stay.
   */
  dispose(): void {
    if (this.bounded) this.cut(new DeadlineError('the scrape ended before this call did'));
    else this.stop();
  }

  protected stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.parent.removeEventListener('abort', this.onParent);
  }
}

/** A CallCut of its own, cut by its timer or with its group (DeadlineGroup.timed). */
export class TimedCut extends CutBase {
  private readonly timer: NodeJS.Timeout | undefined;
  /** Its own timer cuts it. */
  readonly bounded = true;
  private readonly fromGroup = (reason: unknown): void => this.cut(reason);

  constructor(
    private readonly group: CallCut,
    ms: number,
    what: string,
  ) {
    super();
    if (group.isCut) {
      this.cut(group.cutReason);
      return;
    }
    group.onCut(this.fromGroup);
    this.timer = setTimeout(() => this.cut(new DeadlineError(what)), Math.max(0, ms));
  }

  /** Stops the timer and leaves the group (callbacks still registered are dropped with it). */
  dispose(): void {
    this.stop();
  }

  protected stop(): void {
    clearTimeout(this.timer);
    this.group.offCut(this.fromGroup);
  }
}

/** Settles like `p`, or rejects with the cut's reason as soon as it is cut. */
export function raceCut<T>(p: Promise<T>, cut: CallCut): Promise<T> {
  if (cut.isCut) {
    p.catch(() => {}); // its rejection is no longer anyone's business
    return Promise.reject(asError(cut.cutReason));
  }
  return new Promise<T>((resolve, reject) => {
    const onCut = (reason: unknown): void => reject(asError(reason));
    cut.onCut(onCut);
    p.then(
      (v) => {
        cut.offCut(onCut);
        resolve(v);
      },
      (e: unknown) => {
        cut.offCut(onCut);
        reject(asError(e));
      },
    );
  });
}

/** Settles like `p`, or rejects with the signal's reason as soon as it aborts. */
export function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    p.catch(() => {}); // its rejection is no longer anyone's business
    return Promise.reject(asError(signal.reason));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(asError(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(asError(e));
      },
    );
  });
}

export function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
