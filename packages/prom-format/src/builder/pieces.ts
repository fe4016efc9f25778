// The finished body: pieces to send in order, mostly views of the family buffers (a
// family is usually one piece), and the one way those buffers go back to a pool.
import type { FamilyPool } from '../family-pool.js';
import type { FamilyStore } from './family-store.js';

/** A rendered exposition as pieces to send in order. */
export interface RenderedPieces {
  readonly pieces: readonly Buffer[];
  /** Total length of the pieces. */
  readonly bytes: number;
  /**
   * Gives the family buffers the pieces point into back to the builder's pool (nothing
   * without one), for a later build to overwrite: call it once nothing will read the
   * pieces again. Calls after the first do nothing.
   */
  release(): void;
}

/** The body being assembled: pieces in order, adjacent ranges of one buffer merged into one piece. */
export class PieceList {
  private readonly pieces: Buffer[] = [];
  private total = 0;
  private runBuf: Buffer | undefined;
  private runStart = 0;
  private runEnd = 0;

  /** `b[start, end)` next (no copy: a view of `b`). */
  copy(b: Buffer, start: number, end: number): void {
    if (b === this.runBuf && start === this.runEnd) {
      this.runEnd = end;
      return;
    }
    this.flush();
    this.runBuf = b;
    this.runStart = start;
    this.runEnd = end;
  }

  /** A whole buffer next. */
  add(b: Buffer): void {
    this.flush();
    this.pieces.push(b);
    this.total += b.length;
  }

  private flush(): void {
    const b = this.runBuf;
    if (b !== undefined && this.runEnd > this.runStart) {
      this.pieces.push(b.subarray(this.runStart, this.runEnd));
      this.total += this.runEnd - this.runStart;
    }
    this.runBuf = undefined;
  }

  /**
   * The body, handed over: the stores' columns go back to `pool` now (nothing reads them
   * after finish), their buffers when the caller releases the pieces.
   */
  handOver(stores: readonly FamilyStore[], pool: FamilyPool | undefined): RenderedPieces {
    this.flush();
    const pieces = this.pieces;
    const bytes = this.total;
    if (pool === undefined) return { pieces, bytes, release: noRelease };
    pool.giveColumns(stores.map((st) => [st.name, st.points.data, st.segments.data] as const));
    let released = false;
    return {
      pieces,
      bytes,
      release: (): void => {
        if (released) return;
        released = true;
        pool.giveBuffers(stores.map((st) => [st.name, st.buf] as const));
      },
    };
  }
}

function noRelease(): void {}
