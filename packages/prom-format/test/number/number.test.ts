import { describe, expect, test } from 'vitest';
import type { WireNumber } from '../../src/index.js';
import {
  fixed6,
  floatNumber,
  int64Equal,
  intNumber,
  isInteger,
  normalizeInt64,
  numberEqual,
  numberToFloat,
  renderFloat,
  renderNumber,
  sameType,
  ZERO,
} from '../../src/number.js';

const n = (int: number | bigint, float: number): WireNumber => ({ int, float });

/** Exact reference: the double's value as a fraction, rounded half-to-even at 6 decimals with BigInt. */
function exactFixed6(f: number): string {
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, f);
  const hi = buf.getUint32(0);
  const lo = buf.getUint32(4);
  const neg = hi >>> 31 === 1;
  const exp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e2: number;
  if (exp === 0) e2 = -1074;
  else {
    mant |= 1n << 52n;
    e2 = exp - 1075;
  }
  // value = mant * 2^e2; scaled = value * 10^6 = num / den
  let num = mant * 10n ** 6n;
  let den = 1n;
  if (e2 >= 0) num <<= BigInt(e2);
  else den <<= BigInt(-e2);
  let q = num / den;
  const r = num - q * den;
  if (r * 2n > den || (r * 2n === den && q % 2n === 1n)) q += 1n;
  const s = q.toString().padStart(7, '0');
  return `${neg ? '-' : ''}${s.slice(0, -6)}.${s.slice(-6)}`;
}

describe('renderNumber (prometheus.md §4.4)', () => {
  test.each(
    [
      [ZERO, '0'],
      [n(0, -0), '0'],
      [n(3, 0), '3'],
      [n(-42, 0), '-42'],
      [n(5, 2.5), '5'], // the int part wins
      [n(999999999999999999n, 0), '999999999999999999'],
      [n(1000000000000000000n, 0), '1000000000000000000'], // Go prints nothing from 10^18 up
      [n(-1000000000000000000n, 0), '-1000000000000000000'], // Go prints just "-"
      [n(9223372036854775807n, 0), '9223372036854775807'],
      [n(-9223372036854775808n, 0), '-9223372036854775808'], // Go divides by zero
      [n(18446744073709551615n, 0), '18446744073709551615'],
      [n(9007199254740991, 0), '9007199254740991'],
      [n(0, NaN), 'NaN'],
      [n(0, Infinity), '+Inf'],
      [n(0, -Infinity), '-Inf'],
      [n(0, 2.5), '2.500000'],
      [n(0, 1), '1.000000'],
      [n(0, 0.1), '0.100000'],
      [n(0, 1e20), '100000000000000000000.000000'],
      [n(0, 1e21), '1000000000000000000000.000000'],
      [n(0, -1e22), '-10000000000000000000000.000000'],
      [n(0, 1e-7), '0.000000'],
      [n(0, -1e-7), '-0.000000'],
      [n(0, 0.0078125), '0.007812'], // exact tie: toFixed would say 0.007813
      [n(0, -0.0078125), '-0.007812'],
      [n(0, 0.0234375), '0.023438'], // tie, even neighbour above
      [n(0, 0.0390625), '0.039062'],
      [n(0, 8187.5), '8187.500000'],
      [n(0, 1716228000.5), '1716228000.500000'],
    ].map(([num, text]) => [text, num] as const),
  )('renders %s', (text, num) => {
    expect(renderNumber(num as WireNumber)).toBe(text);
  });

  test('the largest double prints all its digits', () => {
    expect(renderFloat(Number.MAX_VALUE)).toBe(`${BigInt(Number.MAX_VALUE).toString()}.000000`);
  });

  test('fixed6 equals an exact BigInt reference on ties and random doubles', () => {
    let seed = 42;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const cases: number[] = [];
    for (let k = -2000; k <= 2000; k++) cases.push(k / 128, k / 64, k / 1e6, (k + 0.5) / 1e6);
    for (let i = 0; i < 20000; i++) {
      const mag = Math.floor(rnd() * 40) - 20;
      cases.push((rnd() - 0.5) * 10 ** mag);
    }
    for (const f of cases) {
      if (f === 0 || Math.abs(f) >= 1e21) continue;
      expect(fixed6(f), String(f)).toBe(exactFixed6(f));
    }
  });
});

describe('Number semantics (prometheus.md §1.2)', () => {
  test('constructors normalise; zero is ZERO', () => {
    expect(floatNumber(0)).toBe(ZERO);
    expect(floatNumber(-0)).toBe(ZERO);
    expect(intNumber(0)).toBe(ZERO);
    expect(intNumber(0n)).toBe(ZERO);
    expect(floatNumber(2)).toEqual({ int: 0, float: 2 });
    expect(floatNumber(NaN).float).toBeNaN();
    expect(intNumber(5n)).toEqual({ int: 5, float: 0 });
    expect(intNumber(2n ** 60n)).toEqual({ int: 2n ** 60n, float: 0 });
    expect(normalizeInt64(-0)).toBe(0);
    expect(Object.isFrozen(ZERO)).toBe(true);
  });

  test('isInteger', () => {
    expect(isInteger(ZERO)).toBe(true);
    expect(isInteger(n(7, 0))).toBe(true);
    expect(isInteger(n(0, 3))).toBe(true);
    expect(isInteger(n(0, 2.5))).toBe(false);
    expect(isInteger(n(0, NaN))).toBe(false);
    expect(isInteger(n(0, Infinity))).toBe(false);
    expect(isInteger(n(0, 2 ** 63))).toBe(false);
    expect(isInteger(n(0, -(2 ** 63)))).toBe(false);
    expect(isInteger(n(0, 2 ** 62))).toBe(true);
  });

  test('sameType', () => {
    expect(sameType(n(1, 0), n(2, 0))).toBe(true);
    expect(sameType(n(0, 1.5), n(0, 2.5))).toBe(true);
    expect(sameType(n(1, 0), n(0, 2.5))).toBe(false);
    expect(sameType(ZERO, n(0, 2.5))).toBe(true);
    expect(sameType(ZERO, n(3, 0))).toBe(true);
    expect(sameType(n(2n ** 60n, 0), n(2n ** 60n, 0.5))).toBe(true);
    expect(sameType(n(0, NaN), n(1, NaN))).toBe(false);
  });

  test('numberToFloat, int64Equal, numberEqual', () => {
    expect(numberToFloat(n(3, 0))).toBe(3);
    expect(numberToFloat(n(0, 2.5))).toBe(2.5);
    expect(numberToFloat(n(2n ** 60n, 0))).toBe(2 ** 60);
    expect(int64Equal(5, 5n)).toBe(true);
    expect(int64Equal(2n ** 60n, 2n ** 60n)).toBe(true);
    expect(int64Equal(1, 2)).toBe(false);
    expect(numberEqual(n(0, 2), n(2, 0))).toBe(false);
    expect(numberEqual(n(0, NaN), n(0, NaN))).toBe(true);
    expect(numberEqual(n(0, Infinity), floatNumber(Infinity))).toBe(true);
  });
});
