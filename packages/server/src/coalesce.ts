// Concurrent /metrics requests with the same filters and format share one export: the
// first starts it, the others join it while it runs, and all get the same body. The
// shared export is aborted only when every request that joined it has gone.
import { releaseOnNextTurn, type ScrapeOutcome } from './body.js';
import { asError, raceAbort } from './deadline.js';

/** One export shared by concurrent requests. */
interface SharedScrape {
  readonly outcome: Promise<ScrapeOutcome>;
  /** Aborted when every joined request has gone away. */
  readonly controller: AbortController;
  /** Requests still waiting for it; changed only by join() (join and leave). */
  joined: number;
}

export class ScrapeJoiner {
  /** Exports in flight by key; an entry is added by join() and removed when its outcome settles. */
  private readonly inFlight = new Map<string, SharedScrape>();

  /**
   * The outcome of the export running for `key`, or of one `start` starts now (with a
   * signal that aborts when all of its requests have gone). Rejects when `clientSignal`
   * aborts. Comes with one hold for this request: release it once the body is written (or
   * will not be).
   */
  async join(
    key: string,
    start: (signal: AbortSignal) => Promise<ScrapeOutcome>,
    clientSignal: AbortSignal,
  ): Promise<ScrapeOutcome> {
    if (clientSignal.aborted) throw asError(clientSignal.reason);
    let shared = this.inFlight.get(key);
    if (shared === undefined) {
      const controller = new AbortController();
      const entry: SharedScrape = { outcome: start(controller.signal), controller, joined: 0 };
      this.inFlight.set(key, entry);
      const drop = (): void => {
        if (this.inFlight.get(key) === entry) this.inFlight.delete(key);
      };
      entry.outcome.then((outcome) => {
        drop();
        releaseOnNextTurn(outcome);
      }, drop);
      shared = entry;
    }
    const s = shared;
    s.joined++;
    let left = false;
    const onAbort = (): void => {
      left = true;
      if (--s.joined === 0) s.controller.abort(clientSignal.reason);
    };
    clientSignal.addEventListener('abort', onAbort, { once: true });
    try {
      return (await raceAbort(s.outcome, clientSignal)).hold();
    } finally {
      clientSignal.removeEventListener('abort', onAbort);
      if (!left) s.joined--;
    }
  }
}
