// Deadlines as AbortSignals with explicit disposal (no timers or listeners left
// behind per sandbox per scrape), and racing a promise against one.

export class DeadlineError extends Error {
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
  const group = new DeadlineGroup(parent);
  const d = group.deadline(ms, what);
  return {
    signal: d.signal,
    dispose: () => {
      d.dispose();
      group.dispose();
    },
  };
}

/**
 * The per-sandbox deadlines of one scrape, all cut (with the parent's reason) when the
 * scrape's signal aborts. One listener on the parent fans out to the children: node's
 * EventTarget walks its whole listener list on every add and remove, so 1000 deadlines
 * listening on the parent themselves cost O(n^2) (~6 ms per scrape at 1000). Owned by the
 * scrape that made it; `children` changes only in deadline(), dispose() and the fan-out.
 */
export class DeadlineGroup {
  private readonly children = new Set<AbortController>();
  private readonly onParent = (): void => {
    for (const c of this.children) c.abort(this.parent.reason);
    this.children.clear();
  };

  constructor(private readonly parent: AbortSignal) {
    parent.addEventListener('abort', this.onParent, { once: true });
  }

  /** Like `deadline(parent, ms, what)`. */
  deadline(ms: number, what: string): Deadline {
    const c = new AbortController();
    if (this.parent.aborted) {
      c.abort(this.parent.reason);
      return { signal: c.signal, dispose: () => {} };
    }
    this.children.add(c);
    const timer = setTimeout(() => c.abort(new DeadlineError(what)), Math.max(0, ms));
    return {
      signal: c.signal,
      dispose: () => {
        clearTimeout(timer);
        this.children.delete(c);
      },
    };
  }

  /** Stops listening on the parent (deadlines still running keep their own timers). */
  dispose(): void {
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
