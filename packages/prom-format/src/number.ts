// gVisor's prometheus.Number semantics and its text rendering (prometheus.md §1.2, §4.4).
import type { Int64, WireNumber } from './model.js';

/** The single canonical zero (wire `{}`); shared so decoding `{}` allocates nothing. */
export const ZERO: WireNumber = Object.freeze({ int: 0, float: 0 });

const SAFE_MIN = -9007199254740991n;
const SAFE_MAX = 9007199254740991n;

/** An Int64 in canonical form: a number while safe, a bigint only beyond. */
export function normalizeInt64(v: Int64): Int64 {
  if (typeof v === 'number') return v === 0 ? 0 : v; // folds -0
  return v >= SAFE_MIN && v <= SAFE_MAX ? Number(v) : v;
}

/** Exact equality of two Int64 regardless of representation. */
export function int64Equal(a: Int64, b: Int64): boolean {
  // Loose equality compares number and bigint by mathematical value.
  // biome-ignore lint/suspicious/noDoubleEquals: number vs bigint by value is the point
  return a == b;
}

/** Go's NewInt: `{Int: v}`; zero is ZERO. */
export function intNumber(v: Int64): WireNumber {
  const n = normalizeInt64(v);
  return n === 0 ? ZERO : { int: n, float: 0 };
}

/** Go's NewFloat: zero (and -0) is ZERO, anything else (NaN, ±Inf included) `{Float: v}`. */
export function floatNumber(v: number): WireNumber {
  return v === 0 ? ZERO : { int: 0, float: v };
}

function intIsZero(v: Int64): boolean {
  return typeof v === 'number' ? v === 0 : v === 0n;
}

const TWO63 = 2 ** 63;

/** Go's IsInteger: zero float => the int part counts; integral finite floats in (-2^63, 2^63) too. */
export function isInteger(n: WireNumber): boolean {
  const f = n.float;
  if (f === 0) return true;
  if (!Number.isFinite(f)) return false;
  return f > -TWO63 && f < TWO63 && Number.isInteger(f);
}

/** Go's SameType: `a.Float == b.Float || a.Int == b.Int` (IEEE; NaN is never equal). */
export function sameType(a: WireNumber, b: WireNumber): boolean {
  return a.float === b.float || int64Equal(a.int, b.int);
}

/** Go's ToFloat: the int part if non-zero, else the float part. */
export function numberToFloat(n: WireNumber): number {
  return intIsZero(n.int) ? n.float : Number(n.int);
}

/** Exact field-by-field equality (bucket bounds: `{Float:2}` differs from `{Int:2}`). */
export function numberEqual(a: WireNumber, b: WireNumber): boolean {
  return int64Equal(a.int, b.int) && (a.float === b.float || (Number.isNaN(a.float) && Number.isNaN(b.float)));
}

/**
 * Text form of a Number (values and `le` bounds): int part when non-zero (exact,
 * bigint included, -2^63 too), `0` for zero, `NaN`/`+Inf`/`-Inf`, else a float
 * with exactly six decimals, round-half-to-even on the exact binary value.
 */
export function renderNumber(n: WireNumber): string {
  const i = n.int;
  if (typeof i === 'number') {
    if (i !== 0) return String(i); // safe integers never print in exponent form
  } else if (i !== 0n) {
    return i.toString();
  }
  return renderFloat(n.float);
}

/** Six-decimal fixed rendering of a float64 (zero prints `0` as Go's Number does). */
export function renderFloat(f: number): string {
  if (f === 0) return '0';
  if (Number.isNaN(f)) return 'NaN';
  if (f === Infinity) return '+Inf';
  if (f === -Infinity) return '-Inf';
  return fixed6(f);
}

/**
 * `toFixed(6)` is exact except at ties, which it rounds away from zero. A float is
 * an exact tie at 6 decimals iff f·10^6 = k + ½, i.e. f = odd/(2^7·5^6) and, being a
 * dyadic rational, f = odd/128: test `f·128` (exact) for an odd integer.
 */
export function fixed6(f: number): string {
  const abs = f < 0 ? -f : f;
  if (abs >= 1e21) return `${f < 0 ? '-' : ''}${BigInt(abs).toString()}.000000`; // toFixed switches to exponent form
  let s = f.toFixed(6);
  const t = f * 128;
  if (Number.isInteger(t) && t % 2 !== 0) {
    const last = s.charCodeAt(s.length - 1) - 0x30;
    // toFixed picked the larger magnitude k+1; if odd, the even neighbour k is one
    // unit below (an odd digit is >= 1, so no borrow).
    if (last % 2 === 1) s = s.slice(0, -1) + String(last - 1);
  }
  return s; // like Go, tiny negatives keep their sign: -1e-7 -> -0.000000
}
