// The deadlines of one scrape, and which one a sandbox's query runs under.
//
// One deadline for every export, counted from the start of the scrape: every sandbox whose
// export starts before it shares it (discovery, waiting for a slot or behind another
// scrape count), so stalled sandboxes cost one per-sandbox timeout, not one per wave of
// slots. It is one group (one timer, one listener on the scrape's signal). A sandbox that
// only gets a slot later (more sandboxes than --scrape-concurrency) gets its own timeout
// from its start, so a healthy one is still served behind stalled ones. Everything is
// capped by the scrape deadline.
import type { CallCut } from '@org/metricserver-core';
import { type Deadline, DeadlineError, DeadlineGroup, deadline, type TimedCut } from './deadline.js';

/** A query's cut and how its outcome maps to the scrape's result (true, or the Error saying why not). */
export interface QuerySlot {
  readonly cut: CallCut;
  readonly done: () => true;
  readonly failed: (e: unknown) => Error;
}

const rendered = (): true => true;

export class ScrapeDeadlines {
  /** The scrape's own deadline, under the client's signal. */
  readonly whole: Deadline;
  private readonly deadlineAt: number;
  private readonly phaseDeadlineAt: number;
  /** The shared per-sandbox deadline: the first wave's cut. */
  private readonly phase: DeadlineGroup;
  /** Timed cuts of the sandboxes slotted after the phase deadline. */
  private readonly late: DeadlineGroup;
  /** What a first-wave query's result maps through (one pair for all of them: no object per sandbox). */
  private readonly phaseSlot: QuerySlot;

  constructor(
    clientSignal: AbortSignal,
    private readonly perSandboxTimeoutMs: number,
    scrapeDeadlineMs: number,
  ) {
    const startedAt = Date.now();
    this.deadlineAt = startedAt + scrapeDeadlineMs;
    this.whole = deadline(clientSignal, scrapeDeadlineMs, `scrape deadline of ${scrapeDeadlineMs} ms exceeded`);
    const T = perSandboxTimeoutMs;
    this.phaseDeadlineAt = Math.min(startedAt + T, this.deadlineAt);
    this.phase = new DeadlineGroup(
      this.whole.signal,
      this.phaseDeadlineAt - startedAt,
      `no verified answer within the per-sandbox deadline of ${T} ms from the start of the scrape`,
    );
    this.late = new DeadlineGroup(this.whole.signal);
    this.phaseSlot = { cut: this.phase, done: rendered, failed: this.phase.failure };
  }

  /** The cut a query starting now runs under, or the DeadlineError when no time is left for it. */
  slot(): QuerySlot | DeadlineError {
    const now = Date.now();
    if (now < this.phaseDeadlineAt) return this.phaseSlot;
    const until = Math.min(now + this.perSandboxTimeoutMs, this.deadlineAt);
    if (until <= now) {
      return new DeadlineError('not queried: the scrape deadline passed before this sandbox got a query slot');
    }
    const own: TimedCut = this.late.timed(
      until - now,
      `no verified answer within ${until - now} ms (the per-sandbox deadline, capped by the scrape deadline)`,
    );
    return {
      cut: own,
      done: () => {
        own.dispose();
        return true;
      },
      failed: (e) => {
        own.dispose();
        return own.failure(e);
      },
    };
  }

  dispose(): void {
    this.phase.dispose();
    this.late.dispose();
    this.whole.dispose();
  }
}
