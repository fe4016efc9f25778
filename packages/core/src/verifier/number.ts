// Number semantics the verifier needs (prometheus.md §1.2), over the shared
// model's WireNumber. TEMPORARY local copies of what prom-format's number.ts
// will export (isInteger, sameType); switch to those once published.
// Hot path (several calls per data point): no allocation.
import type { Int64, Timestamp, WireNumber } from '../urpc/prom-format-shim.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const TWO_63 = 2 ** 63;

export function int64Equal(a: Int64, b: Int64): boolean {
  if (typeof a === typeof b) return a === b;
  // number vs bigint: the model keeps safe values as numbers, but compare exactly anyway.
  return BigInt(a) === BigInt(b);
}

/** A well-formed int64 in the model: a safe-integer number, or a bigint within int64. */
export function isInt64(v: unknown): v is Int64 {
  if (typeof v === 'number') return Number.isSafeInteger(v);
  return typeof v === 'bigint' && v >= INT64_MIN && v <= INT64_MAX;
}

/** A well-formed uint64 (bucket sample counts). */
export function isUint64(v: unknown): v is Int64 {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0;
  return typeof v === 'bigint' && v >= 0n && v <= UINT64_MAX;
}

/**
 * Why `n` is not a well-formed Number, or null. Go keeps int and float
 * exclusive only by convention; we refuse a Number with both parts set
 * instead of guessing which one the sandbox meant.
 */
export function numberProblem(n: unknown): string | null {
  if (typeof n !== 'object' || n === null) return 'number is missing';
  const { int, float } = n as { int: unknown; float: unknown };
  if (!isInt64(int)) return 'integer part is not a 64-bit integer';
  if (typeof float !== 'number') return 'floating-point part is not a number';
  if (float !== 0 && int !== 0 && int !== 0n) return 'number has both an integer and a floating-point part';
  return null;
}

/** Go's Number.IsInteger: the int part when float is 0, else a finite integral float inside (-2^63, 2^63). */
export function isInteger(n: WireNumber): boolean {
  const f = n.float;
  if (f === 0) return true;
  return Number.isInteger(f) && f > -TWO_63 && f < TWO_63;
}

/** Go's Number.SameType: equal float parts or equal int parts (zero matches everything). */
export function sameType(a: WireNumber, b: WireNumber): boolean {
  return a.float === b.float || int64Equal(a.int, b.int);
}

/** The numeric value for ordering (float part when set, else int part). Mixed number/bigint `<` is exact in JS. */
export function numericValue(n: WireNumber): number | bigint {
  return n.float !== 0 ? n.float : n.int;
}

/** Prints a Number for messages: `5`, `2.5`, `{int:1 float:2}` never (rejected before). */
export function formatNumber(n: WireNumber): string {
  if (n.float !== 0) {
    const f = n.float;
    return Number.isInteger(f) && Math.abs(f) < 1e21 ? `${f}.0` : String(f);
  }
  return String(n.int);
}

export function compareTimestamps(a: Timestamp, b: Timestamp): number {
  return a.seconds !== b.seconds ? (a.seconds < b.seconds ? -1 : 1) : a.nanos - b.nanos;
}

export function isTimestamp(t: unknown): t is Timestamp {
  if (typeof t !== 'object' || t === null) return false;
  const { seconds, nanos } = t as { seconds: unknown; nanos: unknown };
  return Number.isSafeInteger(seconds) && Number.isInteger(nanos) && (nanos as number) >= 0 && (nanos as number) < 1e9;
}

/** RFC 3339 UTC with 9 fractional digits, for messages (operators compare these with sandbox logs). */
export function formatTimestamp(t: Timestamp): string {
  const ms = t.seconds * 1000;
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return `${t.seconds}s+${t.nanos}ns`;
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.000Z
  return `${iso.slice(0, 19)}.${String(t.nanos).padStart(9, '0')}Z`;
}
