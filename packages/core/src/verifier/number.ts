// Well-formedness checks and ordering the verifier needs on top of
// prom-format's Number semantics (prometheus.md §1.2).
// Hot path (several calls per data point): no allocation.
import { INT64_MAX, INT64_MIN, type Timestamp, UINT64_MAX, type WireNumber } from '@org/metricserver-prom-format';

/** A well-formed int64 in the model: a safe-integer number, or a bigint within int64. */
export function isModelInt64(v: unknown): boolean {
  if (typeof v === 'number') return Number.isSafeInteger(v);
  return typeof v === 'bigint' && v >= INT64_MIN && v <= INT64_MAX;
}

/** A well-formed uint64 (bucket sample counts). */
export function isModelUint64(v: unknown): boolean {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0;
  return typeof v === 'bigint' && v >= 0n && v <= UINT64_MAX;
}

/**
 * Why `n` is not a well-formed Number, or null. Go keeps int and float
 * exclusive only by convention (and its verifier then remembers the float part
 * alone); we refuse a Number with both parts set instead of guessing.
 */
export function numberProblem(n: unknown): string | null {
  if (typeof n !== 'object' || n === null) return 'number is missing';
  const { int, float } = n as { int: unknown; float: unknown };
  if (!isModelInt64(int)) return 'integer part is not a 64-bit integer';
  if (typeof float !== 'number') return 'floating-point part is not a number';
  if (float !== 0 && int !== 0 && int !== 0n) return 'number has both an integer and a floating-point part';
  return null;
}

/**
 * The numeric value for ordering: the float part when set, else the int part
 * (mixed number/bigint `<` is exact in JS). Unlike Go's GreaterThan, which
 * compares the (zero) int parts of integral floats, this orders all values.
 */
export function numericValue(n: WireNumber): number | bigint {
  return n.float !== 0 ? n.float : n.int;
}

export function isTimestamp(t: unknown): t is Timestamp {
  if (typeof t !== 'object' || t === null) return false;
  const { seconds, nanos } = t as { seconds: unknown; nanos: unknown };
  return Number.isSafeInteger(seconds) && Number.isInteger(nanos) && (nanos as number) >= 0 && (nanos as number) < 1e9;
}

/**
 * A Number for messages, exact rather than the exposition's 6 decimals (a
 * decrease from 3e-7 to 1e-7 must not read "0.000000 to 0.000000"): ints as
 * is, integral floats with ".0" so int-vs-float type changes are visible.
 */
export function formatNumber(n: WireNumber): string {
  const f = n.float;
  if (f === 0) return String(n.int);
  return Number.isInteger(f) && Math.abs(f) < 1e21 ? `${f}.0` : String(f);
}
