// Finds where one JSON value ends in a byte stream (urpc has no framing: a
// message ends at the byte that closes its top-level object). Tracks only
// string/escape state and nesting depth; full validation is JSON.parse's job.

export type ScanResult =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'invalid' }
  | { readonly kind: 'complete'; readonly text: string };

const INCOMPLETE: ScanResult = { kind: 'incomplete' };
const INVALID: ScanResult = { kind: 'invalid' };
/** A request larger than this is not something runsc's client would send. */
const MAX_REQUEST_BYTES = 1 << 20;

export class RequestScanner {
  private chunks: Buffer[] = [];
  private length = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private started = false;

  /** Feeds bytes; once complete, bytes after the value are dropped (Go's buffered decoder swallows them). */
  push(chunk: Buffer): ScanResult {
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i] as number;
      if (!this.started) {
        if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
        if (c !== 0x7b) return INVALID; // urpc requests are objects
        this.started = true;
        this.depth = 1;
        continue;
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 0x5c) this.escaped = true;
        else if (c === 0x22) this.inString = false;
        continue;
      }
      if (c === 0x22) this.inString = true;
      else if (c === 0x7b || c === 0x5b) this.depth++;
      else if (c === 0x7d || c === 0x5d) {
        this.depth--;
        if (this.depth === 0) {
          this.chunks.push(chunk.subarray(0, i + 1));
          const text = Buffer.concat(this.chunks).toString('utf8');
          this.reset();
          return { kind: 'complete', text: text.trimStart() };
        }
      }
    }
    this.chunks.push(chunk);
    this.length += chunk.length;
    return this.length > MAX_REQUEST_BYTES ? INVALID : INCOMPLETE;
  }

  reset(): void {
    this.chunks = [];
    this.length = 0;
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    this.started = false;
  }
}
