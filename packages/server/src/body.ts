// A scrape's rendered body and its lifetime: the one place that decides when the family
// buffers it points into go back to the FamilyPool for the next scrape to overwrite.
//
// The body is shared read-only by every request that joined the scrape (coalesce.ts),
// kept as the builder's pieces (no copy into one buffer), compressed at most once.
// Holders: the scraper holds it from the start and lets go on the turn after it settles
// (releaseOnNextTurn: by then every request that joined has resumed and taken its own
// hold); each request holds it until its response is written or abandoned (routes/
// metrics.ts). At zero holds the pieces are released (RenderedPieces.release gives the
// buffers to the pool) and reading the body throws. A body never released is left to the GC.
import { createGzip, constants as zlibConstants } from 'node:zlib';
import type { ExpositionFormat, RenderedPieces } from '@org/metricserver-prom-format';

/** The body was read after its last holder released it (its memory may hold another scrape's). */
export class ReleasedOutcomeError extends Error {
  override readonly name = 'ReleasedOutcomeError';
}

export class ScrapeOutcome {
  /** Set by the first gzip() call; later callers share it. */
  private gzipped: Promise<readonly Buffer[]> | undefined;
  /** Holds on the body; changed by hold() and release() only. 0 means released: it never rises again. */
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

  /** One more reader of the body (per request it answers). */
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

/** The scraper's own hold, given up on the turn after the outcome settled (the joined requests hold it first). */
export function releaseOnNextTurn(outcome: ScrapeOutcome): void {
  setImmediate(() => outcome.release());
}
