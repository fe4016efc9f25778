// Which sandboxes a scrape queries, in which order, and the pump that queries them.
//
// Usually a fixed list in a fresh random order (the fairness rule). While a discovery pass
// is loading sandboxes (at start-up, 1000 of them take ~0.4 s), the pass appends each one
// as it is loaded, so the scrape's queries run alongside the loading instead of after it.
// Owned by one scrape: discovery pushes, runLimited takes.
import { randomInt } from 'node:crypto';
import type { ScrapeBackend, ScrapeTarget } from './backend.js';
import { raceAbort } from './deadline.js';
import type { Logger } from './log.js';

export class TargetFeed<T> {
  private readonly items: T[];
  private taken = 0;
  private open: boolean;
  /** Called when an item arrives or the feed closes; set by the one consumer. */
  onMore: (() => void) | undefined;

  /** `items` to begin with; `open`: more may be pushed until close(). */
  constructor(items: readonly T[], open: boolean) {
    this.items = [...items];
    this.open = open;
  }

  push(item: T): void {
    if (!this.open) return;
    this.items.push(item);
    this.onMore?.();
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    this.onMore?.();
  }

  /** The next item, or undefined when none is waiting (yet). */
  next(): T | undefined {
    return this.taken < this.items.length ? this.items[this.taken++] : undefined;
  }

  /** Closed, and every item taken. */
  get exhausted(): boolean {
    return !this.open && this.taken >= this.items.length;
  }
}

/**
 * A scrape's feed: the sandboxes its discovery refresh loads as they load, then (once the
 * refresh is done, or the scrape's signal gave up on it) every other served one, shuffled.
 * `served` resolves with the sandboxes served when the feed closed; rejects only when the
 * backend throws (the feed is closed either way).
 */
export function discoveryFeed(
  backend: ScrapeBackend,
  signal: AbortSignal,
  log: Logger,
): { feed: TargetFeed<ScrapeTarget>; served: Promise<ScrapeTarget[]> } {
  const feed = new TargetFeed<ScrapeTarget>([], true);
  const queued = new Set<ScrapeTarget>();
  const served = raceAbort(
    backend.refresh((t) => {
      queued.add(t);
      feed.push(t);
    }),
    signal,
  )
    .catch((e: unknown) => {
      log.warn('discovery did not finish within the scrape deadline; serving the sandboxes known so far', {
        error: String(e),
      });
    })
    .then(() => {
      try {
        const all = backend.targets();
        const rest = all.filter((t) => !queued.has(t));
        shuffle(rest);
        for (const t of rest) feed.push(t);
        return all;
      } finally {
        feed.close(); // a throwing backend still ends the query pump
      }
    });
  served.catch(() => {}); // awaited by the scrape after its queries: handled there
  return { feed, served };
}

/**
 * Calls `query` for every item, at most `limit` at once, and `record` with each result as
 * it comes (synchronously, so records never interleave); resolves once every item is
 * recorded and the feed is closed, rejects with the first error `record` throws (no more
 * items start then). `query` must not reject. Per item: the query's promise and one
 * callback, no async frame (at 1000 sandboxes such frames lived through the scrape).
 */
export function runLimited<T, R>(
  items: readonly T[] | TargetFeed<T>,
  limit: number,
  query: (item: T) => Promise<R>,
  record: (item: T, startedMs: number, result: R) => void,
): Promise<void> {
  const feed = items instanceof TargetFeed ? items : new TargetFeed(items, false);
  const slots = Math.max(1, limit);
  return new Promise<void>((resolve, reject) => {
    let running = 0;
    let failed = false;
    const launch = (): void => {
      while (!failed && running < slots) {
        const item = feed.next();
        if (item === undefined) break;
        const started = performance.now();
        running++;
        query(item).then(
          (result) => {
            running--;
            if (failed) return;
            try {
              record(item, started, result);
            } catch (e) {
              failed = true;
              reject(e);
              return;
            }
            launch();
          },
          (e: unknown) => {
            running--;
            if (failed) return;
            failed = true;
            reject(e);
          },
        );
      }
      if (!failed && running === 0 && feed.exhausted) resolve();
    };
    feed.onMore = launch;
    launch();
  });
}

/** Fisher-Yates with crypto randomness: a fresh uniform order per scrape is the fairness rule. */
export function shuffle<T>(a: T[]): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    const tmp = a[i] as T;
    a[i] = a[j] as T;
    a[j] = tmp;
  }
}
