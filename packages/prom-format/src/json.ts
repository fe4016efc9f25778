// JSON text -> JS values without losing 64-bit integers.
//
// Detection (cheap, one regex pass over the raw text, no allocation):
//  * a run of 16+ digits: every integer beyond Number.MAX_SAFE_INTEGER (2^53-1,
//    16 digits) has one, so texts without such a run hold only safe integers;
//  * a number token written with a fraction or an exponent (`1.0`, `1e3`): JSON.parse
//    makes `1e3` and `1000` the same value, but Go refuses the former for an int64
//    field, so the lexical form must survive for the strict decoder.
// Both can also match inside strings (a long id, "ratio: 1.5,"); that only costs the
// slower path, never correctness. Real sandbox replies match neither.
import { DecodeError } from './errors.js';

const NEEDS_LOSSLESS = /\d{16}|[:,[]\s*-?\d+(?:\.\d+(?:[eE][-+]?\d+)?|[eE][-+]?\d+)\s*[,}\]]/;

/**
 * A number token written with a fraction or exponent whose value is integral
 * (`1.0`, `1e3`, `-0.0`). Produced only by the lossless path so that strict
 * decoders can refuse it where Go wants an integer literal; float fields use `.value`.
 */
export class FloatLiteral {
  constructor(readonly value: number) {}
}

/** Largest nesting the lossless parser accepts (hostile input must not blow the stack). */
export const MAX_JSON_DEPTH = 512;

/** True when `text` needs the lossless parser (see the module comment). */
export function needsLosslessParse(text: string): boolean {
  return NEEDS_LOSSLESS.test(text);
}

/**
 * Parses JSON; integers outside the safe range come back as `bigint`, integral
 * numbers written with a fraction/exponent as `FloatLiteral` (lossless path only).
 * Throws `DecodeError` (path `$`) for syntax errors, never anything else.
 */
export function parseJson(text: string): unknown {
  return parseJsonDetected(text, NEEDS_LOSSLESS.test(text));
}

/**
 * parseJson for a caller that already knows whether `text` needs the lossless parser
 * (core's urpc scanner detects it while finding the reply's end, outside strings, which
 * saves this module's regex pass). `needsLossless` must be true whenever the text holds
 * a number of 16+ digits or one written with a fraction or exponent; a false positive
 * only costs speed.
 */
export function parseJsonDetected(text: string, needsLossless: boolean): unknown {
  if (!needsLossless) {
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new DecodeError('$', `invalid JSON: ${(err as Error).message}`);
    }
  }
  return parseLossless(text);
}

/** The lossless parser alone (exported for tests and callers that know they need it). */
export function parseLossless(text: string): unknown {
  const p = new LosslessParser(text);
  p.skipWs();
  const v = p.value(0);
  p.skipWs();
  if (p.pos !== text.length) p.fail('unexpected data after the JSON value');
  return v;
}

const NUMBER_TOKEN = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?/y;

class LosslessParser {
  pos = 0;
  constructor(private readonly s: string) {}

  fail(msg: string): never {
    throw new DecodeError('$', `invalid JSON at offset ${this.pos}: ${msg}`);
  }

  skipWs(): void {
    const s = this.s;
    let i = this.pos;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
    this.pos = i;
  }

  value(depth: number): unknown {
    if (depth > MAX_JSON_DEPTH) this.fail(`nesting deeper than ${MAX_JSON_DEPTH}`);
    const c = this.s.charCodeAt(this.pos);
    switch (c) {
      case 0x7b:
        return this.object(depth);
      case 0x5b:
        return this.array(depth);
      case 0x22:
        return this.string();
      case 0x74:
        return this.literal('true', true);
      case 0x66:
        return this.literal('false', false);
      case 0x6e:
        return this.literal('null', null);
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
        return this.fail(
          Number.isNaN(c) ? 'unexpected end of input' : `unexpected character ${JSON.stringify(this.s[this.pos])}`,
        );
    }
  }

  literal<T>(word: string, v: T): T {
    if (!this.s.startsWith(word, this.pos)) this.fail(`expected ${word}`);
    this.pos += word.length;
    return v;
  }

  number(): number | bigint | FloatLiteral {
    NUMBER_TOKEN.lastIndex = this.pos;
    const m = NUMBER_TOKEN.exec(this.s);
    if (m === null) return this.fail('invalid number');
    const tok = m[0];
    this.pos += tok.length;
    if (m[1] === undefined && m[2] === undefined) {
      // Integer literal: exact as number while safe, bigint beyond.
      if (tok.length <= 15) return tok === '-0' ? 0 : Number(tok);
      const big = BigInt(tok);
      return big >= -9007199254740991n && big <= 9007199254740991n ? Number(big) : big;
    }
    const f = Number(tok);
    return Number.isInteger(f) || Object.is(f, -0) ? new FloatLiteral(f) : f;
  }

  string(): string {
    const s = this.s;
    const start = this.pos; // at the opening quote
    let i = start + 1;
    let escaped = false;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 0x22) break;
      if (c === 0x5c) {
        escaped = true;
        i += 2;
        continue;
      }
      if (Number.isNaN(c)) {
        this.pos = i;
        this.fail('unterminated string');
      }
      if (c < 0x20) {
        this.pos = i;
        this.fail('control character in string');
      }
      i++;
    }
    this.pos = i + 1;
    if (!escaped) return s.slice(start + 1, i);
    try {
      return JSON.parse(s.slice(start, i + 1)) as string; // escapes are rare: let V8 decode them
    } catch {
      this.pos = start;
      return this.fail('invalid escape in string');
    }
  }

  array(depth: number): unknown[] {
    this.pos++;
    const out: unknown[] = [];
    this.skipWs();
    if (this.s.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipWs();
      out.push(this.value(depth + 1));
      this.skipWs();
      const c = this.s.charCodeAt(this.pos++);
      if (c === 0x2c) continue;
      if (c === 0x5d) return out;
      this.pos--;
      this.fail("expected ',' or ']'");
    }
  }

  object(depth: number): Record<string, unknown> {
    this.pos++;
    const out: Record<string, unknown> = {};
    this.skipWs();
    if (this.s.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipWs();
      if (this.s.charCodeAt(this.pos) !== 0x22) this.fail('expected a string key');
      const key = this.string();
      this.skipWs();
      if (this.s.charCodeAt(this.pos) !== 0x3a) this.fail("expected ':'");
      this.pos++;
      this.skipWs();
      const v = this.value(depth + 1);
      // An own "__proto__" key must stay data, as JSON.parse keeps it.
      if (key === '__proto__')
        Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      else out[key] = v;
      this.skipWs();
      const c = this.s.charCodeAt(this.pos++);
      if (c === 0x2c) continue;
      if (c === 0x7d) return out;
      this.pos--;
      this.fail("expected ',' or '}'");
    }
  }
}

// ---- 64-bit integer range helpers ----

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;
export const UINT64_MAX = 2n ** 64n - 1n;

/** An integer in int64 range (a JS number is safe by construction here if integral). */
export function isInt64(v: number | bigint): boolean {
  if (typeof v === 'number') return Number.isSafeInteger(v);
  return v >= INT64_MIN && v <= INT64_MAX;
}

/** An integer in uint64 range (0 .. 2^64-1). */
export function isUint64(v: number | bigint): boolean {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0;
  return v >= 0n && v <= UINT64_MAX;
}

/** Alias kept for readers of the brief: safe for an int64 field. */
export const isSafeInt64 = isInt64;
