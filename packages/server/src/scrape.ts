// One /metrics scrape (spec §5.6), top to bottom: refresh discovery, query every served
// sandbox concurrently in a fresh random order under the scrape's deadlines, render each
// verified reply as it arrives (reply.ts) together with that sandbox's meta points, then
// the counts and the process snapshot, and finish the body. With --resource-metrics a
// sandbox's resource usage is asked right after its verified export, in the same queue run
// and under the same cut, and rendered as one more snapshot (resources.ts). A sandbox's failure stays with
// that sandbox. Concurrent requests with the same filters share one scrape (coalesce.ts);
// the body's lifetime is body.ts's.

import type { CallCut, Re2Filter } from '@org/metricserver-core';
import {
  ExpositionBuilder,
  type ExpositionFormat,
  FamilyPool,
  NO_LABELS,
  pointsOf,
  type SnapshotExport,
  type SnapshotPoints,
} from '@org/metricserver-prom-format';
import type { ResourceUsage, ScrapeBackend, ScrapeTarget } from './backend.js';
import { ScrapeOutcome } from './body.js';
import { wallNow } from './clock.js';
import { ScrapeJoiner } from './coalesce.js';
import { DeadlineError } from './deadline.js';
import { ExportErrorLog } from './export-log.js';
import { goQuote } from './goquote.js';
import {
  type ExportFailureKind,
  failureReason,
  HealthBook,
  resourceFailureReason,
  type SandboxHealth,
  VerificationError,
} from './health.js';
import type { Logger } from './log.js';
import { MetaSnapshotBuilder, processSnapshot } from './meta.js';
import { KeyedQueue } from './queue.js';
import { resourceFamiliesFor, resourcePoints, resourceTotals } from './resources.js';
import { ScrapeDeadlines } from './scrape-deadlines.js';
import { discoveryFeed, runLimited } from './target-feed.js';

export interface ScrapeRequest {
  /** The metrics filter as given ('' = none). */
  readonly metricsFilter: string;
  readonly metricsMatcher: Re2Filter | undefined;
  readonly capabilityMatcher: Re2Filter | undefined;
  /** Exposition format of the body (default `prometheus`); part of what coalesced requests share. */
  readonly format?: ExpositionFormat;
}

export interface ScraperOptions {
  readonly root: string;
  readonly exporterPrefix: string;
  readonly perSandboxTimeoutMs: number;
  readonly scrapeConcurrency: number;
  readonly scrapeDeadlineMs: number;
  /** process_start_time_seconds. */
  readonly startTimeSeconds: number;
  /** Ask each sandbox's containers for their resource usage after its export (--resource-metrics). */
  readonly resourceMetrics?: boolean;
  readonly log: Logger;
}

const NOT_LOADED = new Error('sandbox could not be loaded');

export class Scraper {
  /** One export at a time per sandbox, across concurrent scrapes (its verifier compares each with the last). */
  private readonly queue = new KeyedQueue<ScrapeTarget>();
  /** Last export outcome per served sandbox: written in a scrape's synchronous `record`, read by the status page. */
  readonly health = new HealthBook();
  private readonly errors: ExportErrorLog;
  private readonly resourceErrors: ExportErrorLog;
  private readonly joiner = new ScrapeJoiner();
  /**
   * Per format, each family's rendered size in the last scrape: the next one's family
   * buffers start there (see BuilderOptions.sizeHints). Hints only: concurrent scrapes
   * may overwrite each other's. Holds the last scrape's family names, nothing more.
   */
  private readonly sizeHints = new Map<ExpositionFormat, Map<string, number>>();
  /**
   * Per format, family buffers and columns for the next scrape to reuse: columns come back
   * as a scrape's body is finished, buffers as its body is released (body.ts).
   */
  private readonly pools = new Map<ExpositionFormat, FamilyPool>();

  constructor(
    private readonly backend: ScrapeBackend,
    private readonly opts: ScraperOptions,
  ) {
    this.errors = new ExportErrorLog(opts.log);
    this.resourceErrors = new ExportErrorLog(opts.log, {
      failed: 'Could not read the resource usage of sandbox',
      recovered: 'Sandbox reports its resource usage again',
    });
  }

  /** The served sandboxes as of the last discovery pass (no pass is run): the status page. */
  servedTargets(): ScrapeTarget[] {
    return this.backend.targets();
  }

  /**
   * The outcome for `req`, shared with every concurrent request with the same metrics and
   * capability filters and format. Rejects when `clientSignal` aborts. Comes with one hold
   * for this request: call its release() once the body has been written (or will not be).
   */
  scrape(req: ScrapeRequest, clientSignal: AbortSignal): Promise<ScrapeOutcome> {
    const key = `${req.metricsFilter}\u0000${req.capabilityMatcher?.pattern ?? ''}\u0000${req.format ?? 'prometheus'}`;
    return this.joiner.join(key, (signal) => this.scrapeNow(req, signal), clientSignal);
  }

  private async scrapeNow(req: ScrapeRequest, signal: AbortSignal): Promise<ScrapeOutcome> {
    const o = this.opts;
    const deadlines = new ScrapeDeadlines(signal, o.perSandboxTimeoutMs, o.scrapeDeadlineMs);
    const whole = deadlines.whole.signal;
    try {
      const { feed, served } = discoveryFeed(this.backend, whole, o.log);
      const format = req.format ?? 'prometheus';
      const meta = new MetaSnapshotBuilder(req.capabilityMatcher, wallNow(), `${o.exporterPrefix}meta_`);
      // The body: each snapshot rendered into bytes as it arrives and then dropped, so only
      // concatenation is left after the last answer. Owned by this call; adds are synchronous.
      let skipped = 0;
      let firstSkip = '';
      const body = new ExpositionBuilder({
        format,
        sizeHints: this.sizeHintsOf(format),
        pool: this.poolOf(format),
        onSkip: (sk) => {
          if (skipped++ === 0) firstSkip = `${sk.metric}: ${sk.reason}`;
        },
      });
      const metaSlot = body.reserve();
      const processSlot = body.reserve();
      // The meta snapshot goes into its slot a sandbox at a time (no series twice: MetaSnapshotBuilder says why).
      const renderMeta = (part: SnapshotExport): void => body.addPart(part, metaSlot);
      // A sandbox's verified points are rendered inside the read that completes its reply
      // (reply.ts), in completion order; verified, so no series twice (the verifier's rule).
      const renderSandbox =
        (t: ScrapeTarget) =>
        (points: SnapshotPoints): void =>
          body.add({ snapshot: points, exporterPrefix: o.exporterPrefix, extraLabels: t.labels, distinctSeries: true });
      // Its resource usage, when asked for and the filter keeps some of it: distinct series by
      // construction (one per container, family, interface).
      const matcher = req.metricsFilter === '' ? undefined : req.metricsMatcher;
      const families = resourceFamiliesFor(matcher === undefined ? undefined : (name) => matcher.test(name));
      const renderResources = (t: ScrapeTarget, usage: ResourceUsage): void =>
        body.add({
          snapshot: resourcePoints(usage, families, t.labels),
          exporterPrefix: o.exporterPrefix,
          extraLabels: NO_LABELS,
          distinctSeries: true,
        });
      // Each query's result, as it comes (synchronously: results never interleave).
      const record = (t: ScrapeTarget, started: number, result: true | Error): void => {
        // Not recorded: an export cut because every client left (the sandbox is not to blame).
        const failure = result instanceof Error ? failureKind(result) : undefined;
        let h: SandboxHealth | undefined;
        if (failure === undefined || !whole.aborted || whole.reason instanceof DeadlineError) {
          h = this.health.record(t.id, {
            finishedAtMs: Date.now(),
            durationMs: performance.now() - started,
            failure,
            error: result instanceof Error ? result.message : undefined,
            reason: failure === 'verify' || failure === 'error' ? failureReason(result as Error) : undefined,
          });
        }
        const ok = result === true;
        // A verified reply proves the sandbox answered just now: kill(pid, 0) only after a failure.
        const running = t.meta !== undefined && (ok || t.isRunning());
        meta.addSandbox(t.labels, t.meta, running, ok);
        // Its export health (an unrecorded, cut export leaves the last recorded one).
        if (t.meta !== undefined) {
          h ??= this.health.get(t.id);
          if (h?.last !== undefined) meta.addHealth(t.labels, h);
        }
        meta.flush(renderMeta);
        if (ok) this.errors.succeeded(t.id);
        else if (running) this.errors.failed(t.id, result.message);
      };
      // At most --scrape-concurrency queries in flight, each starting as the previous ends.
      const resources = o.resourceMetrics === true && families.size > 0 ? renderResources : undefined;
      await runLimited(
        feed,
        o.scrapeConcurrency,
        (t) => this.queryOne(t, req, deadlines, renderSandbox(t), resources),
        record,
      );
      this.forgetGone(await served);
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
      deadlines.dispose();
    }
  }

  /**
   * True once the sandbox's verified points were rendered, or the Error saying why not (no
   * result wrapper per sandbox). Never rejects. Per sandbox per scrape: the queue's
   * promises, and only for a sandbox slotted after the shared deadline a cut of its own.
   */
  private queryOne(
    t: ScrapeTarget,
    req: ScrapeRequest,
    deadlines: ScrapeDeadlines,
    render: (points: SnapshotPoints) => void,
    renderResources: ((t: ScrapeTarget, usage: ResourceUsage) => void) | undefined,
  ): Promise<true | Error> {
    if (t.meta === undefined) return Promise.resolve(NOT_LOADED);
    const slot = deadlines.slot();
    if (slot instanceof DeadlineError) return Promise.resolve(slot);
    const cut = slot.cut;
    const exportNow = (): Promise<unknown> => t.exportInto(req.metricsFilter, req.metricsMatcher, cut, render);
    // Resources only after a verified export (a sandbox whose metrics are refused or late is
    // not asked again); their outcome never changes the export's.
    const work =
      renderResources === undefined || t.collectResources === undefined
        ? exportNow
        : (): Promise<unknown> => exportNow().then(() => this.collectResources(t, cut, deadlines, renderResources));
    // run() never throws: a throwing exportInto becomes its rejection. A target that settles
    // on the cut is not raced against it; `slot.failed` then reports the cut's reason.
    const run = this.queue.run(t, cut, work, t.settlesOnCut === true);
    return run.then(slot.done, slot.failed);
  }

  /** One sandbox's resource usage: rendered and recorded, or its failure recorded. Never rejects. */
  private collectResources(
    t: ScrapeTarget,
    cut: CallCut,
    deadlines: ScrapeDeadlines,
    render: (t: ScrapeTarget, usage: ResourceUsage) => void,
  ): Promise<void> {
    return t.collectResources!(cut).then(
      (usage) => {
        render(t, usage);
        const totals = resourceTotals(usage);
        this.health.recordResources(t.id, { finishedAtMs: Date.now(), ...totals, error: undefined, reason: undefined });
        this.resourceErrors.succeeded(t.id);
      },
      (e: Error) => {
        const whole = deadlines.whole.signal;
        // Not recorded: a collection cut because every client left (the sandbox is not to blame).
        if (whole.aborted && !(whole.reason instanceof DeadlineError)) return;
        const reason = resourceFailureReason(e, e instanceof DeadlineError);
        this.health.recordResources(t.id, {
          finishedAtMs: Date.now(),
          cpuSeconds: undefined,
          memoryBytes: undefined,
          error: e.message,
          reason,
        });
        this.resourceErrors.failed(t.id, e.message);
      },
    );
  }

  /** Health and logged errors of sandboxes no longer served go. */
  private forgetGone(served: readonly ScrapeTarget[]): void {
    const ids = new Set(served.map((t) => t.id));
    this.health.prune(ids);
    this.errors.prune(ids);
    this.resourceErrors.prune(ids);
  }

  private sizeHintsOf(format: ExpositionFormat): Map<string, number> {
    let hints = this.sizeHints.get(format);
    if (hints === undefined) this.sizeHints.set(format, (hints = new Map()));
    return hints;
  }

  private poolOf(format: ExpositionFormat): FamilyPool {
    let pool = this.pools.get(format);
    if (pool === undefined) this.pools.set(format, (pool = new FamilyPool()));
    return pool;
  }
}

function failureKind(e: Error): ExportFailureKind {
  if (e === NOT_LOADED) return 'not-loaded';
  if (e instanceof VerificationError) return 'verify';
  if (e instanceof DeadlineError) return 'timeout';
  return 'error';
}
