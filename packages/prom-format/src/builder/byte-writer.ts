// The bytes of an exposition are written through one reused writer: a Buffer and a
// position. Its owner (the builder) points `buf` at whichever buffer it is filling
// (a family's, or its scratch for small pieces) and reads `buf`/`pos` back afterwards:
// `ensure` may have swapped in a bigger copy.
//
// Hot path (every sample of every sandbox, ~170 x 1000 per scrape): short ASCII is
// copied by a byte loop, since a Buffer#write call costs more than the copy at these
// lengths; UTF-8 encoding only when a value needs it.
import { escapeLabelValue } from '../escape.js';

/** Room `integer()` needs at most: a sign and the 16 digits of the largest safe integer. */
export const MAX_INTEGER_BYTES = 17;

/** "00".."99" as ASCII pairs, for integer(). */
const DIGIT_PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  DIGIT_PAIRS[2 * i] = 0x30 + Math.floor(i / 10);
  DIGIT_PAIRS[2 * i + 1] = 0x30 + (i % 10);
}

/** Decimal digits of a non-negative safe integer. */
function decimalDigits(x: number): number {
  if (x < 100000) return x < 10 ? 1 : x < 100 ? 2 : x < 1000 ? 3 : x < 10000 ? 4 : 5;
  let digits = 6;
  for (let bound = 1000000; x >= bound && digits < 16; bound *= 10) digits++;
  return digits;
}

export class ByteWriter {
  /** The buffer being written; replaced by a bigger copy when `ensure` runs out of room. */
  buf: Buffer;
  /** Bytes of `buf` written so far. */
  pos = 0;

  constructor(buf: Buffer) {
    this.buf = buf;
  }

  /** Room for `n` more bytes (doubling the buffer as needed). */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** ASCII text (names, numbers, label keys). */
  ascii(s: string): void {
    const n = s.length;
    this.ensure(n);
    if (n > 64) {
      this.pos += this.buf.write(s, this.pos, 'latin1');
      return;
    }
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) buf[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  utf8(s: string): void {
    this.ensure(s.length * 3); // at most 3 bytes per UTF-16 unit
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /**
   * A label value, escaped, as UTF-8: one loop copies plain ASCII and gives up on the
   * first character needing care (non-ASCII, quote, backslash, newline).
   */
  labelValue(s: string): void {
    const n = s.length;
    this.ensure(n);
    const buf = this.buf;
    const start = this.pos;
    let p = start;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80 || c === 0x22 || c === 0x5c || c === 0x0a) {
        this.pos = start;
        this.utf8(escapeLabelValue(s)); // rare: allocates the escaped copy
        return;
      }
      buf[p++] = c;
    }
    this.pos = p;
  }

  /** Pre-encoded bytes: a byte loop for short ones, TypedArray#set (memcpy) beyond. */
  bytes(src: Uint8Array): void {
    const n = src.length;
    this.ensure(n);
    const buf = this.buf;
    if (n > 24) {
      buf.set(src, this.pos);
      this.pos += n;
      return;
    }
    let p = this.pos;
    for (let i = 0; i < n; i++) buf[p++] = src[i]!;
    this.pos = p;
  }

  /**
   * A safe integer in decimal, without a string: the digit count by comparisons, then two
   * digits per division, in uint32 arithmetic once the value fits (float division and
   * floor per digit were ~5% of the builder's time).
   */
  integer(v: number): void {
    this.ensure(MAX_INTEGER_BYTES);
    const buf = this.buf;
    let x = v;
    if (x < 0) {
      buf[this.pos++] = 0x2d;
      x = -x;
    }
    let p = this.pos + decimalDigits(x);
    this.pos = p;
    while (x > 0xffffffff) {
      const q = Math.floor(x / 100);
      const r = (x - q * 100) << 1;
      buf[--p] = DIGIT_PAIRS[r + 1]!;
      buf[--p] = DIGIT_PAIRS[r]!;
      x = q;
    }
    let y = x >>> 0;
    while (y >= 100) {
      const q = (y / 100) >>> 0;
      const r = (y - q * 100) << 1;
      buf[--p] = DIGIT_PAIRS[r + 1]!;
      buf[--p] = DIGIT_PAIRS[r]!;
      y = q;
    }
    if (y >= 10) {
      buf[--p] = DIGIT_PAIRS[(y << 1) + 1]!;
      buf[--p] = DIGIT_PAIRS[y << 1]!;
    } else buf[--p] = 0x30 + y;
  }

  byte(c: number): void {
    this.ensure(1);
    this.buf[this.pos++] = c;
  }

  /** `buf[start, end)` again at the end (a histogram's label pairs, once per line). */
  copyOwn(start: number, end: number): void {
    this.ensure(end - start);
    this.pos += this.buf.copy(this.buf, this.pos, start, end);
  }
}
