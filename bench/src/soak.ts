// RSS soak: consecutive scrapes at N = 1000, sampling the server's VmRSS after
// each, to show memory does not grow scrape over scrape. Judged only once the fleet's
// expositions stopped growing: fake sandboxes add series over their first minute.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { SERIES_RAMP_SECONDS } from '@org/metricserver-fake-sandbox';
import { startServer } from './children.js';
import { memory } from './proc.js';
import type { BootedFleet, GroupContext } from './runner.js';
import { Scraper } from './scrape-client.js';
import type { ServerKind } from './servers.js';
import { median, slope } from './stats.js';

export interface SoakResult {
  readonly server: string;
  readonly sandboxes: number;
  readonly requested: number;
  readonly scrapes: number;
  /** True when the time budget ended the soak before `requested` scrapes. */
  readonly stoppedByBudget: boolean;
  readonly seconds: number;
  /** Scrapes before the judged ones, while V8's heap grows to its working size. */
  readonly warmupScrapes: number;
  /** Median RSS over the first and the last 10% of the judged scrapes, bytes. */
  readonly rssFirstBytes: number;
  readonly rssLastBytes: number;
  /** Least-squares RSS growth per 100 scrapes, bytes. */
  readonly rssSlopePer100Bytes: number;
  readonly rssPeakBytes: number;
  /** Median exposition size over the first and last tenth: the fleet's series count grows with time. */
  readonly bodyFirstBytes: number;
  readonly bodyLastBytes: number;
  /** Every 10th RSS sample, bytes (for the record). */
  readonly rssSamples: readonly number[];
}

const WARMUP_SCRAPES = 20;

/**
 * `requested` judged scrapes after 20 warm-up scrapes of a fresh server. `waitForRamp`:
 * start the server only once the fleet is past its series ramp, so every judged scrape
 * sees the same series (only values change).
 */
export async function soak(
  ctx: GroupContext,
  fleet: BootedFleet,
  kind: ServerKind,
  requested: number,
  budgetMs: number,
  waitForRamp: boolean,
): Promise<SoakResult> {
  const rampEndsAt = waitForRamp ? fleet.readyAt + SERIES_RAMP_SECONDS * 1000 : 0;
  const wait = rampEndsAt - performance.now();
  if (wait > 0) {
    ctx.progress(
      `soak ${kind.name}: waiting ${(wait / 1000).toFixed(0)} s for the fleet's ${SERIES_RAMP_SECONDS} s series ` +
        `ramp to end`,
    );
    await sleep(wait);
  }
  const server = await startServer(kind.spec(fleet.root, fleet.address, join(fleet.dir, `${kind.name}-soak.log`)));
  const rss: number[] = [];
  const body: number[] = [];
  const t0 = performance.now();
  try {
    const s = new Scraper(fleet.address);
    await s.scrape(false); // discovery, not part of the soak
    let warm = 0;
    for (; warm < WARMUP_SCRAPES; warm++) await s.scrape(false);
    const judgedFrom = performance.now();
    while (rss.length < requested && performance.now() - judgedFrom < budgetMs) {
      body.push((await s.scrape(false)).bytes);
      rss.push(memory(server.pid).rss);
      if (rss.length % 50 === 0) {
        ctx.progress(
          `soak ${kind.name}: ${rss.length}/${requested} scrapes, rss ` +
            `${(rss[rss.length - 1]! / 2 ** 20).toFixed(0)} MB`,
        );
      }
    }
    s.close();
    const tenth = Math.max(1, Math.floor(rss.length / 10));
    return {
      server: kind.name,
      sandboxes: fleet.targets.length,
      requested,
      scrapes: rss.length,
      stoppedByBudget: rss.length < requested,
      seconds: (performance.now() - t0) / 1000,
      warmupScrapes: warm,
      rssFirstBytes: median(rss.slice(0, tenth)),
      rssLastBytes: median(rss.slice(-tenth)),
      rssSlopePer100Bytes: slope(rss) * 100,
      bodyFirstBytes: median(body.slice(0, tenth)),
      bodyLastBytes: median(body.slice(-tenth)),
      rssPeakBytes: memory(server.pid).hwm,
      rssSamples: rss.filter((_, i) => i % 10 === 0),
    };
  } finally {
    await server.stop();
  }
}
