// uint64 values from an untrusted sandbox: Go's encoder writes them as plain decimal
// integers, 0 .. 2^64-1. Kept as prom-format keeps its Int64s: a JS number while it is a
// safe integer (every real counter so far), a bigint beyond, so no value is ever rounded.
import { DecodeError, UINT64_MAX } from '@org/metricserver-prom-format';
import { describe } from '../discovery/json-fields.js';

/** A uint64: a number while safe (<= 2^53-1), a bigint above. Compare with `<`, which works across both. */
export type Uint64 = number | bigint;

/** What is wrong with `v` as a uint64 (the verifier's rejection codes), or null. */
export type Uint64Problem = 'not-integer' | 'negative' | 'out-of-range';

/** Checks a value already in a typed result (defence in depth: decoding checked it once). */
export function uint64Problem(v: unknown): Uint64Problem | null {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) return 'not-integer';
    if (v < 0 || Object.is(v, -0)) return 'negative';
    return Number.isSafeInteger(v) ? null : 'out-of-range'; // a rounded double: not an exact uint64
  }
  if (typeof v === 'bigint') {
    if (v < 0n) return 'negative';
    return v > UINT64_MAX ? 'out-of-range' : null;
  }
  return 'not-integer';
}

/**
 * A JSON object of a parsed reply: JSON.parse and prom-format's lossless parser make only plain
 * objects. The one other object the lossless parser makes is its FloatLiteral (`1.0`, `1e3`:
 * an integral number written as a float), which prom-format does not export: told apart here by
 * its prototype.
 */
export function isJsonObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
}

/** The value of a lossless parser's FloatLiteral, else undefined. */
export function floatLiteralValue(v: unknown): number | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || isJsonObject(v)) return undefined;
  const value = (v as { value?: unknown }).value;
  return typeof value === 'number' ? value : undefined;
}

/** The canonical form: a number while safe. */
export function canonicalUint64(v: bigint): Uint64 {
  return v <= 9007199254740991n ? Number(v) : v;
}

function what(v: unknown): string {
  const float = floatLiteralValue(v);
  if (float !== undefined) return `the number ${String(float)} written as a float`;
  if (typeof v === 'number') return Object.is(v, -0) ? 'the number -0' : `the number ${String(v)}`;
  if (typeof v === 'bigint') return `the number ${v.toString()}`;
  return describe(v);
}

/**
 * A uint64 field of a parsed reply (prom-format's lossless `parseJson` output), by Go's rules:
 * null or absent is 0 (Go leaves the field at zero); a fraction or exponent form (`1.0`, `1e3`),
 * a negative number (`-0` included, when the parser kept it), a value above 2^64-1, a string or
 * any other type is a DecodeError at `path`.
 */
export function readUint64(v: unknown, path: string): Uint64 {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && !Object.is(v, -0)) return v;
  if (v === null || v === undefined) return 0;
  if (typeof v === 'bigint' && v >= 0n && v <= UINT64_MAX) return canonicalUint64(v);
  const problem = uint64Problem(v); // a FloatLiteral is an object: not-integer
  const detail =
    problem === 'negative'
      ? 'a negative number'
      : problem === 'out-of-range'
        ? typeof v === 'bigint'
          ? 'a number above 2^64-1'
          : 'an integer beyond 2^53 that was not parsed losslessly (use parseJson)'
        : 'not an integer literal';
  throw new DecodeError(path, `expected an unsigned integer (uint64), got ${what(v)}: ${detail}`);
}
