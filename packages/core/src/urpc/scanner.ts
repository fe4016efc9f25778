// Finds where the first top-level JSON object of a urpc response ends, over
// arbitrary chunking. urpc has no framing: a message ends at the byte that
// closes its outer `{`. Only ASCII bytes matter (`"`, `\`, brackets), and they
// never occur inside a UTF-8 multi-byte sequence, so scanning bytes is exact.
// The full JSON grammar is left to the parser that runs once the end is found.
// Hot path (every byte of every response): no allocation per push.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
export const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

export function isJsonWhitespace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/** Thrown when the first non-whitespace byte cannot start a JSON object. */
export class LeadingGarbageError extends Error {
  override readonly name = 'LeadingGarbageError';
}

/** Incremental end-of-object finder. One instance per response; owned by the call that reads the socket. */
export class JsonObjectScanner {
  private started = false;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private done = false;
  /** Consecutive digits just seen outside strings (capped at 16). */
  private digitRun = 0;
  private lossless = false;

  /** True once the closing byte of the top-level object has been seen. */
  get complete(): boolean {
    return this.done;
  }

  /**
   * True when the bytes scanned so far hold, outside strings, a number with 16+ digits
   * in a row (maybe beyond 2^53) or written with a fraction or exponent: the reply
   * needs prom-format's lossless parser (the same rule as its detection regex, which
   * this saves, minus the matches inside strings).
   */
  get needsLossless(): boolean {
    return this.lossless;
  }

  /**
   * Scans `chunk`; returns the offset just past the object's closing byte if
   * it is in this chunk, else -1. Throws LeadingGarbageError as soon as a
   * byte other than whitespace precedes the opening `{`.
   */
  push(chunk: Uint8Array): number {
    if (this.done) throw new Error('JsonObjectScanner: push after the object was complete');
    let i = 0;
    const n = chunk.length;
    if (!this.started) {
      while (i < n && isJsonWhitespace(chunk[i]!)) i++;
      if (i === n) return -1;
      const first = chunk[i]!;
      if (first !== OPEN_BRACE) {
        throw new LeadingGarbageError(
          `response does not start with a JSON object (first byte 0x${first.toString(16).padStart(2, '0')})`,
        );
      }
      this.started = true;
      this.depth = 1;
      i++;
    }
    let depth = this.depth;
    let inString = this.inString;
    let escaped = this.escaped;
    let digitRun = this.digitRun;
    let lossless = this.lossless;
    // Next backslash at or after i (n if none): string bodies are skipped with a
    // native indexOf for the closing quote, stepping byte by byte only around escapes.
    let nextBackslash = -1;
    for (; i < n; i++) {
      if (inString) {
        if (escaped) {
          escaped = false;
          continue;
        }
        if (nextBackslash < i) {
          nextBackslash = chunk.indexOf(BACKSLASH, i);
          if (nextBackslash < 0) nextBackslash = n;
        }
        const q = chunk.indexOf(QUOTE, i);
        const stop = q < 0 ? n : q;
        if (nextBackslash < stop) {
          i = nextBackslash; // the loop's i++ steps over the escaped byte
          escaped = true;
          continue;
        }
        if (q < 0) {
          i = n;
          break;
        }
        i = q;
        inString = false;
        continue;
      }
      const b = chunk[i]!;
      if (b >= 0x30 && b <= 0x39) {
        if (++digitRun >= 16) lossless = true;
        continue;
      }
      if (digitRun > 0) {
        if (b === 0x2e || b === 0x65 || b === 0x45) lossless = true; // . e E right after a digit
        digitRun = 0;
      }
      if (b === QUOTE) {
        inString = true;
      } else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
        depth++;
      } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
        depth--;
        if (depth === 0) {
          this.depth = 0;
          this.inString = false;
          this.escaped = false;
          this.digitRun = 0;
          this.lossless = lossless;
          this.done = true;
          return i + 1;
        }
      }
    }
    this.depth = depth;
    this.inString = inString;
    this.escaped = escaped;
    this.digitRun = digitRun;
    this.lossless = lossless;
    return -1;
  }
}
