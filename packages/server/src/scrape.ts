// One /metrics scrape (spec §5.6): refresh discovery, query every served sandbox
// concurrently in a fresh random order under one per-sandbox deadline counted
// from the start of the scrape, all under the scrape deadline, then hand the snapshots (sandboxes + meta + process) to
// the exposition builder as they arrive. A sandbox's failure stays with that sandbox.

import { randomInt } from 'node:crypto';
import { createGzip, constants as zlibConstants } from 'node:zlib';
import {
  ExpositionBuilder,
  type ExpositionFormat,
  FamilyPool,
  pointsOf,
  type RenderedPieces,
  type SnapshotExport,
  type SnapshotPoints,
} from '@org/metricserver-prom-format';
import type { ScrapeBackend, ScrapeTarget } from './backend.js';
import { wallNow } from './clock.js';
import { asError, DeadlineError, DeadlineGroup, deadline, raceAbort, type TimedCut } from './deadline.js';
import type { Re2Matcher } from './filters.js';
import { goQuote } from './goquote.js';
import { type ExportFailureKind, failureReason, HealthBook, type SandboxHealth, VerificationError } from './health.js';
import type { Logger } from './log.js';
import { MetaSnapshotBuilder, processSnapshot } from './meta.js';
import { KeyedQueue } from './queue.js';
import { TargetFeed } from './target-feed.js';

export interface ScrapeRequest {
  /** The metrics filter as given ('' = none). */
  readonly metricsFilter: string;
  readonly metricsMatcher: Re2Matcher | undefined;
  readonly capabilityMatcher: Re2Matcher | undefined;
  /** Exposition format of the body (default `prometheus`); part of what coalesced requests share. */
  readonly format?: ExpositionFormat;
}

/** The body was read after its last holder released it (its memory may hold another scrape's). */
export class ReleasedOutcomeError extends Error {
  override readonly name = 'ReleasedOutcomeError';
}

/**
 * One rendered scrape, shared read-only by every request that joined it: the body is
 * rendered once (meta, process, then sandboxes in completion order), kept as the
 * builder's pieces (no copy into one buffer), and compressed at most once.
 *
 * Holders: the outcome starts with one hold, the scraper's, which Scraper.scrape gives
 * up on the turn after the outcome settles (every request that joined it has taken its
 * own hold by then). Each request calls release() once its response is written or
 * abandoned. When the last hold goes the pieces' buffers go back to the scraper's
 * FamilyPool for the next scrape to overwrite, and reading the body throws. An outcome
 * never released is left to the GC.
 */
export class ScrapeOutcome {
  /** Set by the first gzip() call; later callers share it. */
  private gzipped: Promise<readonly Buffer[]> | undefined;
  /**
   * Holds on the body (the scraper's, then one per request); changed by hold() and
   * release() only. 0 means released: it never rises again.
   */
  private holders = 1;

  constructor(
    readonly format: ExpositionFormat,
    private readonly body: RenderedPieces,
  ) {}

  /** The body, in order; `bytes` long in total. */
  get pieces(): readonly Buffer[] {
    if (this.holders === 0) throw new ReleasedOutcomeError('the scrape body was read after it was released');
    return this.body.pieces;
  }

  get bytes(): number {
    return this.body.bytes;
  }

  /** One more reader of the body (Scraper.scrape, per request it answers). */
  hold(): this {
    if (this.holders === 0) throw new ReleasedOutcomeError('a released scrape body cannot be held again');
    this.holders++;
    return this;
  }

  /** A holder is done with the body (and with its gzip form, which reads it). */
  release(): void {
    if (this.holders === 0) return;
    if (--this.holders > 0) return;
    this.body.release();
  }

  /** The body as one string (tests, small outputs). */
  text(): string {
    return Buffer.concat(this.pieces, this.bytes).toString('utf8');
  }

  /**
   * The body gzip-compressed, as chunks (zlib's thread pool, not the event loop). Level 1:
   * measured on fake-fleet bodies, 10x smaller for ~1/4 of the CPU of zlib's default level
   * 6 (which only reaches 12x); CPU, not bandwidth, is what a scrape of a big fleet costs us.
   */
  gzip(): Promise<readonly Buffer[]> {
    this.gzipped ??= new Promise<readonly Buffer[]>((resolve, reject) => {
      const z = createGzip({ level: zlibConstants.Z_BEST_SPEED });
      const out: Buffer[] = [];
      z.on('data', (c: Buffer) => out.push(c));
      z.once('end', () => resolve(out));
      z.once('error', reject);
      for (const p of this.pieces) z.write(p); // read by zlib later: a holder waits for the end
      z.end();
    });
    return this.gzipped;
  }
}

export interface ScraperOptions {
  readonly root: string;
  readonly exporterPrefix: string;
  readonly perSandboxTimeoutMs: number;
  readonly scrapeConcurrency: number;
  readonly scrapeDeadlineMs: number;
  /** process_start_time_seconds. */
  readonly startTimeSeconds: number;
  readonly log: Logger;
}

const NOT_LOADED = new Error('sandbox could not be loaded');

/** One export shared by concurrent scrapes with the same filters. */
interface SharedScrape {
  readonly outcome: Promise<ScrapeOutcome>;
  /** Aborted when every joined request has gone away. */
  readonly controller: AbortController;
  /** Requests still waiting for it; changed only by Scraper.scrape (join and leave). */
  joined: number;
}

export class Scraper {
  private readonly queue = new KeyedQueue<ScrapeTarget>();
  /**
   * Last logged export error (digits masked) per sandbox id, so a broken sandbox
   * is logged once per change of error, not once per scrape. Written only in the synchronous
   * result handling of scrapes (no await between read and write).
   */
  private readonly lastError = new Map<string, string>();
  /** Last export outcome per served sandbox; written like lastError, read by the status page. */
  readonly health = new HealthBook();
  /**
   * Scrapes in flight by filter key: a request with the same filters joins the running
   * export instead of starting one (N scrapers, one load on the sandboxes). An entry is
   * added by scrape() and removed when its outcome settles.
   */
  private readonly inFlight = new Map<string, SharedScrape>();
  /**
   * Per format, each family's rendered size in the last scrape: the next one's family
   * buffers start there (see BuilderOptions.sizeHints). Hints only: concurrent scrapes
   * may overwrite each other's. Holds the last scrape's family names, nothing more.
   */
  private readonly sizeHints = new Map<ExpositionFormat, Map<string, number>>();
  /**
   * Per format, family buffers and columns for the next scrape to reuse: columns come back
   * as a scrape's body is finished, buffers as its last request releases it (ScrapeOutcome).
   */
  private readonly pools = new Map<ExpositionFormat, FamilyPool>();

  constructor(
    private readonly backend: ScrapeBackend,
    private readonly opts: ScraperOptions,
  ) {}

  /** The served sandboxes as of the last discovery pass (no pass is run): the status page. */
  servedTargets(): ScrapeTarget[] {
    return this.backend.targets();
  }

  /**
   * The outcome for `req`, shared with every concurrent request with the same metrics
   * and capability filters and format (it is read-only: one body, compressed at most
   * once). Rejects when `clientSignal` aborts; the shared export is aborted only when
   * all of its requests have gone. The outcome comes with one hold for this request: call
   * its release() once the body has been written (or will not be).
   */
  async scrape(req: ScrapeRequest, clientSignal: AbortSignal): Promise<ScrapeOutcome> {
    if (clientSignal.aborted) throw asError(clientSignal.reason);
    const key = `${req.metricsFilter}\u0000${req.capabilityMatcher?.pattern ?? ''}\u0000${req.format ?? 'prometheus'}`;
    let shared = this.inFlight.get(key);
    if (shared === undefined) {
      const controller = new AbortController();
      const entry: SharedScrape = { outcome: this.scrapeNow(req, controller.signal), controller, joined: 0 };
      this.inFlight.set(key, entry);
      const drop = (): void => {
        if (this.inFlight.get(key) === entry) this.inFlight.delete(key);
      };
      entry.outcome.then((outcome) => {
        drop();
        // The joined requests resume in microtasks and hold it first; then the scraper lets go.
        setImmediate(() => outcome.release());
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

  private async scrapeNow(req: ScrapeRequest, clientSignal: AbortSignal): Promise<ScrapeOutcome> {
    const o = this.opts;
    const startedAt = Date.now();
    const deadlineAt = startedAt + o.scrapeDeadlineMs;
    const whole = deadline(clientSignal, o.scrapeDeadlineMs, `scrape deadline of ${o.scrapeDeadlineMs} ms exceeded`);
    // One deadline for every export, counted from the start of the scrape: every sandbox
    // whose export starts before it shares it (discovery, waiting for a slot or behind
    // another scrape count), so stalled sandboxes cost one per-sandbox timeout, not one
    // per wave of slots. It is one group (one timer, one listener on `whole`). A sandbox
    // that only gets a slot later (more sandboxes than --scrape-concurrency) gets its own
    // timeout from its start (in `late`), so a healthy one is still served behind stalled ones.
    const T = o.perSandboxTimeoutMs;
    const phaseDeadlineAt = Math.min(startedAt + T, deadlineAt);
    const phase = new DeadlineGroup(
      whole.signal,
      phaseDeadlineAt - startedAt,
      `no verified answer within the per-sandbox deadline of ${T} ms from the start of the scrape`,
    );
    const late = new DeadlineGroup(whole.signal);
    try {
      // Sandboxes the refresh loads are queried as they load (a start-up pass takes a while);
      // the rest, what was served already, once it is done, in a fresh random order.
      const feed = new TargetFeed<ScrapeTarget>([], true);
      const queued = new Set<ScrapeTarget>();
      const discovered = raceAbort(
        this.backend.refresh((t) => {
          queued.add(t);
          feed.push(t);
        }),
        whole.signal,
      )
        .catch((e: unknown) => {
          o.log.warn('discovery did not finish within the scrape deadline; serving the sandboxes known so far', {
            error: String(e),
          });
        })
        .then(() => {
          try {
            const served = this.backend.targets();
            const rest = served.filter((t) => !queued.has(t));
            shuffle(rest);
            for (const t of rest) feed.push(t);
            return served;
          } finally {
            feed.close(); // a throwing backend still ends the query pump; the await below rethrows
          }
        });
      discovered.catch(() => {}); // awaited after the queries: handled there
      const format = req.format ?? 'prometheus';
      const meta = new MetaSnapshotBuilder(req.capabilityMatcher, wallNow(), `${o.exporterPrefix}meta_`);
      // Each verified snapshot is rendered as it arrives and then dropped: what a scrape
      // holds is bytes, and only concatenation is left after the last answer. Owned by
      // this call; the workers add to it synchronously after their await.
      let skipped = 0;
      let firstSkip = '';
      let sizeHints = this.sizeHints.get(format);
      if (sizeHints === undefined) this.sizeHints.set(format, (sizeHints = new Map()));
      let pool = this.pools.get(format);
      if (pool === undefined) this.pools.set(format, (pool = new FamilyPool()));
      const body = new ExpositionBuilder({
        format,
        sizeHints,
        pool,
        onSkip: (sk) => {
          if (skipped++ === 0) firstSkip = `${sk.metric}: ${sk.reason}`;
        },
      });
      const metaSlot = body.reserve();
      const processSlot = body.reserve();
      // The meta snapshot goes into its slot a sandbox at a time (no series twice: MetaSnapshotBuilder says why).
      const renderMeta = (part: SnapshotExport): void => body.addPart(part, metaSlot);
      // Each finished query records its result and launches the next target: at most
      // --scrape-concurrency in flight, with no async frame per slot or per sandbox (at
      // 1000 sandboxes those frames lived through the scrape and were promoted).
      // A sandbox's verified points are rendered inside the read that completes its reply
      // (reply.ts), in completion order; verified, so no series twice (the verifier's rule).
      const sandboxSlot =
        (t: ScrapeTarget) =>
        (points: SnapshotPoints): void =>
          body.add({ snapshot: points, exporterPrefix: o.exporterPrefix, extraLabels: t.labels, distinctSeries: true });
      const record = (t: ScrapeTarget, started: number, result: true | Error): void => {
        // Synchronous: results of concurrent queries never interleave.
        // Per sandbox per scrape: one ExportResult object. Not recorded: an export cut
        // because every client left (the sandbox is not to blame).
        const failure = result instanceof Error ? failureKind(result) : undefined;
        let h: SandboxHealth | undefined;
        if (failure === undefined || !whole.signal.aborted || whole.signal.reason instanceof DeadlineError) {
          h = this.health.record(t.id, {
            finishedAtMs: Date.now(),
            durationMs: performance.now() - started,
            failure,
            error: result instanceof Error ? result.message : undefined,
            reason: failure === 'verify' || failure === 'error' ? failureReason(result as Error) : undefined,
          });
        }
        const ok = !(result instanceof Error);
        // A verified reply proves the sandbox answered just now: kill(pid, 0) only after a failure.
        const running = t.meta !== undefined && (ok || t.isRunning());
        meta.addSandbox(t.labels, t.meta, running, ok);
        // Its export health (an unrecorded, cut export leaves the last recorded one).
        if (t.meta !== undefined) {
          h ??= this.health.get(t.id);
          if (h?.last !== undefined) meta.addHealth(t.labels, h);
        }
        meta.flush(renderMeta);
        if (ok) this.noteSuccess(t.id);
        else if (running) this.noteError(t.id, result.message);
      };
      await runLimited(
        feed,
        o.scrapeConcurrency,
        (t) => this.queryOne(t, req, phase, late, phaseDeadlineAt, deadlineAt, sandboxSlot(t)),
        record,
      );
      this.pruneErrors(await discovered);
      meta.finish(this.backend.totalSandboxes());
      meta.flush(renderMeta);
      body.add(
        { snapshot: pointsOf(processSnapshot(o.startTimeSeconds, wallNow())), exporterPrefix: '', extraLabels: {} },
        processSlot,
      );
      let header = `Data for runsc metric server exporting data for sandboxes in root directory ${o.root}`;
      if (req.metricsFilter !== '') header += ` (filtered using regular expression: ${goQuote(req.metricsFilter)})`;
      const rendered = body.finishPieces({ commentHeader: header, metricsWritten: new Set() });
      if (skipped > 0) o.log.warn('data points skipped by the writer', { count: skipped, first: firstSkip });
      return new ScrapeOutcome(format, rendered);
    } finally {
      phase.dispose();
      late.dispose();
      whole.dispose();
    }
  }

  /**
   * True once the sandbox's verified points were rendered, or the Error saying why not (no
   * result wrapper per sandbox). Never rejects.
   * Per sandbox per scrape: the queue's promises, and only for a sandbox slotted after the
   * shared deadline a TimedCut of `late` (disposed here).
   */
  private queryOne(
    t: ScrapeTarget,
    req: ScrapeRequest,
    phase: DeadlineGroup,
    late: DeadlineGroup,
    phaseDeadlineAt: number,
    deadlineAt: number,
    render: (points: SnapshotPoints) => void,
  ): Promise<true | Error> {
    if (t.meta === undefined) return Promise.resolve(NOT_LOADED);
    const now = Date.now();
    // Before the shared deadline the sandbox registers with the phase group itself (no
    // object of its own); after it, it gets a timed cut of its own.
    let own: TimedCut | undefined;
    if (now >= phaseDeadlineAt) {
      const until = Math.min(now + this.opts.perSandboxTimeoutMs, deadlineAt);
      if (until <= now)
        return Promise.resolve(
          new DeadlineError(`not queried: the scrape deadline passed before this sandbox got a query slot`),
        );
      own = late.timed(
        until - now,
        `no verified answer within ${until - now} ms (the per-sandbox deadline, capped by the scrape deadline)`,
      );
    }
    const cut = own ?? phase;
    // run() never throws: a throwing exportInto becomes its rejection. A target that
    // settles on the cut is not raced against it; `cut.failure` then reports the cut's
    // reason, as the race would have.
    const run = this.queue.run(
      t,
      cut,
      () => t.exportInto(req.metricsFilter, req.metricsMatcher, cut, render),
      t.settlesOnCut === true,
    );
    if (own === undefined) return run.then(rendered, phase.failure);
    return run.then(
      () => {
        own.dispose();
        return true as const;
      },
      (e: unknown) => {
        own.dispose();
        return own.failure(e);
      },
    );
  }

  private noteError(id: string, message: string): void {
    // Compared without digits: times, sizes and offsets in a message must not make every scrape "new".
    const key = message.replace(/\d+/g, '#');
    if (this.lastError.get(id) === key) return;
    this.lastError.set(id, key);
    this.opts.log.warn('Could not export metrics from sandbox', { sandbox: id, error: message });
  }

  private noteSuccess(id: string): void {
    if (this.lastError.delete(id)) this.opts.log.info('Sandbox exports metrics again', { sandbox: id });
  }

  private pruneErrors(served: readonly ScrapeTarget[]): void {
    const ids = new Set(served.map((t) => t.id));
    this.health.prune(ids);
    if (this.lastError.size === 0) return;
    for (const id of this.lastError.keys()) if (!ids.has(id)) this.lastError.delete(id);
  }
}

/**
 * Calls `query` for every item, at most `limit` at once, and `record` with each result as
 * it comes (synchronously, so records never interleave); resolves once every item is
 * recorded and the feed is closed, rejects with the first error `record` throws (no more
 * items start then). `query` must not reject. Per item: the query's promise and one
 * callback, no async frame.
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

const rendered = (): true => true;

function failureKind(e: Error): ExportFailureKind {
  if (e === NOT_LOADED) return 'not-loaded';
  if (e instanceof VerificationError) return 'verify';
  if (e instanceof DeadlineError) return 'timeout';
  return 'error';
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
