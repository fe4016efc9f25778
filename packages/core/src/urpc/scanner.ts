// Finds where the first top-level JSON object of a urpc response ends, over
// arbitrary chunking. urpc has no framing: a message ends at the byte that
// closes its outer `{`. Only ASCII bytes matter (`"`, `\`, brackets), and they
// never occur inside a UTF-8 multi-byte sequence, so scanning bytes is exact.
// The full JSON grammar is left to the parser that runs once the end is found.
// Hot path (every byte of every response): no allocation per push.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
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

  /** True once the closing byte of the top-level object has been seen. */
  get complete(): boolean {
    return this.done;
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
        throw new LeadingGarbageError(`response does not start with a JSON object (first byte 0x${first.toString(16).padStart(2, '0')})`);
      }
      this.started = true;
      this.depth = 1;
      i++;
    }
    let depth = this.depth;
    let inString = this.inString;
    let escaped = this.escaped;
    for (; i < n; i++) {
      const b = chunk[i]!;
      if (inString) {
        if (escaped) escaped = false;
        else if (b === BACKSLASH) escaped = true;
        else if (b === QUOTE) inString = false;
      } else if (b === QUOTE) {
        inString = true;
      } else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
        depth++;
      } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
        depth--;
        if (depth === 0) {
          this.depth = 0;
          this.inString = false;
          this.escaped = false;
          this.done = true;
          return i + 1;
        }
      }
    }
    this.depth = depth;
    this.inString = inString;
    this.escaped = escaped;
    return -1;
  }
}
