// Deadlines as AbortSignals with explicit disposal (no timers or listeners left
// behind per sandbox per scrape), and racing a promise against one.

import { ExpectedError } from '@org/metricserver-core';

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
 * The per-sandbox deadlines of one scrape, all cut when the scrape's signal aborts (with
 * its reason) or, when the group has a timer of its own, when that fires (with one shared
 * DeadlineError). One listener on the parent and at most one timer fan out to the
 * children: node's EventTarget walks its whole listener list on every add and remove, so
 * 1000 deadlines listening on the parent themselves cost O(n^2) (~6 ms per scrape at 1000),
 * and 500 stalled sandboxes sharing one deadline need one timer and one error, not 500.
 * Owned by the scrape that made it; `children` and `reason` change only in enter(), the
 * children's dispose() and cut().
 */
export class DeadlineGroup {
  private readonly children = new Set<AbortController>();
  /** Why the group was cut; set once, then every new child starts aborted with it. */
  private reason: unknown;
  private cutDone = false;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly onParent = (): void => this.cut(this.parent.reason);

  /** With `ms`, the group's own deadline: after `ms` every child is cut with DeadlineError(what). */
  constructor(
    private readonly parent: AbortSignal,
    ms?: number,
    what = 'deadline exceeded',
  ) {
    if (parent.aborted) {
      this.cut(parent.reason);
      return;
    }
    parent.addEventListener('abort', this.onParent, { once: true });
    if (ms !== undefined) this.timer = setTimeout(() => this.cut(new DeadlineError(what)), Math.max(0, ms));
  }

  private cut(reason: unknown): void {
    if (this.cutDone) return;
    this.cutDone = true;
    this.reason = reason;
    if (this.timer !== undefined) clearTimeout(this.timer);
    for (const c of this.children) c.abort(reason);
    this.children.clear();
  }

  /** A controller in the group, or already aborted with the group's reason once it was cut. */
  private enter(): AbortController {
    const c = new AbortController();
    if (this.cutDone) c.abort(this.reason);
    else this.children.add(c);
    return c;
  }

  /** A signal cut with the group (its timer or its parent), and no deadline of its own. */
  child(): Deadline {
    const c = this.enter();
    return { signal: c.signal, dispose: () => void this.children.delete(c) };
  }

  /** A child that is also cut after `ms` with DeadlineError(what). */
  deadline(ms: number, what: string): Deadline {
    const c = this.enter();
    const timer = c.signal.aborted ? undefined : setTimeout(() => c.abort(new DeadlineError(what)), Math.max(0, ms));
    return {
      signal: c.signal,
      dispose: () => {
        clearTimeout(timer);
        this.children.delete(c);
      },
    };
  }

  /** Stops listening on the parent and stops the group's timer (children still running keep their own timers). */
  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.parent.removeEventListener('abort', this.onParent);
  }
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
