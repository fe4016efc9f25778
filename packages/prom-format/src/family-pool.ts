// Family storage handed from one build to the next, so a steady series of scrapes
// renders into the same memory instead of ~12 MB of fresh buffers each time (at N = 1000
// that churn was what kept RSS climbing for the first few hundred scrapes).

/** Spares kept per family name: one build in flight and one being sent, with room for a second scraper. */
const SPARES_PER_NAME = 2;
/** A name given back by none of this many builds is forgotten (its sandboxes went away). */
const FORGET_AFTER_BUILDS = 8;

interface Spares {
  readonly buffers: Buffer[];
  /** Pairs of (points, segments) columns. */
  readonly columns: (readonly [Uint32Array, Uint32Array])[];
  /** `builds` when a build last gave something back under this name. */
  lastGiven: number;
}

/**
 * Buffers and point columns of families, by full name, for builders to reuse. Owned by
 * the caller that runs the builds (the server keeps one per exposition format).
 *
 * Columns come back at the end of the build that used them (nothing else sees them).
 * A family's rendered-bytes buffer is what the body's pieces point into, so it comes back
 * only through RenderedPieces.release(), once every reader of the body is done; a body
 * never released just leaves its buffers to the GC. Single-threaded: builds take and give
 * synchronously, so no buffer is handed to two builds.
 */
export class FamilyPool {
  private readonly byName = new Map<string, Spares>();
  /** Gives so far (each build's columns count once): the clock for forgetting names. */
  private builds = 0;

  /** A spare buffer for `name`, preferring one of at least `minBytes`; undefined when none. */
  takeBuffer(name: string, minBytes: number): Buffer | undefined {
    const list = this.byName.get(name)?.buffers;
    if (list === undefined || list.length === 0) return undefined;
    for (let i = list.length - 1; i >= 0; i--) {
      if (list[i]!.length >= minBytes) return list.splice(i, 1)[0];
    }
    return list.pop();
  }

  /** A spare (points, segments) pair; their contents are stale (the taker starts at length 0). */
  takeColumns(name: string): readonly [Uint32Array, Uint32Array] | undefined {
    return this.byName.get(name)?.columns.pop();
  }

  /** One build's columns, given back at its finish; also ages the names nobody gives back. */
  giveColumns(entries: Iterable<readonly [name: string, points: Uint32Array, segments: Uint32Array]>): void {
    const now = ++this.builds;
    for (const [name, points, segments] of entries) {
      const spares = this.spares(name, now);
      if (spares.columns.length < SPARES_PER_NAME) spares.columns.push([points, segments]);
    }
    for (const [name, spares] of this.byName) {
      if (now - spares.lastGiven > FORGET_AFTER_BUILDS) this.byName.delete(name);
    }
  }

  /** A released body's family buffers. */
  giveBuffers(entries: Iterable<readonly [name: string, buffer: Buffer]>): void {
    const now = this.builds;
    for (const [name, buffer] of entries) {
      const spares = this.spares(name, now);
      if (spares.buffers.length < SPARES_PER_NAME) spares.buffers.push(buffer);
    }
  }

  /** Names with spares (tests). */
  get size(): number {
    return this.byName.size;
  }

  private spares(name: string, now: number): Spares {
    let s = this.byName.get(name);
    if (s === undefined) {
      s = { buffers: [], columns: [], lastGiven: now };
      this.byName.set(name, s);
    }
    s.lastGiven = now;
    return s;
  }
}
