import { describe, expect, test } from 'vitest';
import { DecodeError } from '../../src/errors.js';
import {
  FloatLiteral,
  isInt64,
  isSafeInt64,
  isUint64,
  MAX_JSON_DEPTH,
  needsLosslessParse,
  parseJson,
  parseJsonDetected,
  parseLossless,
} from '../../src/json.js';
import { readCapture } from '../support/captures.js';

const fixture = (name: string): string => readCapture(name);

describe('lossless detection', () => {
  test('real captures take the JSON.parse fast path', () => {
    for (const f of ['export-metrics.wire.json', 'export-metrics-filtered.wire.json', 'registered-metrics.wire.json']) {
      expect(needsLosslessParse(fixture(f)), f).toBe(false);
    }
  });
  test.each([
    ['{"int":9007199254740993}', true],
    ['{"int":1234567890123456}', true], // 16 digits: may exceed 2^53
    ['{"int":123456789012345}', false], // 15 digits: always safe
    ['{"float":1.5}', true],
    ['{"int":1e3}', true],
    ['{"int": 1E+3 }', true],
    ['[1.0,2]', true],
    ['{"when":"2026-11-27T22:48:05.333741011Z"}', false], // fraction inside a string is not a number token
    ['{"help":"version 2.0 of x"}', false],
  ])('%s -> %s', (text, expected) => {
    expect(needsLosslessParse(text)).toBe(expected);
  });
});

describe('parseJson', () => {
  test('fast path equals JSON.parse', () => {
    const text = fixture('export-metrics.wire.json');
    expect(parseJson(text)).toEqual(JSON.parse(text));
  });

  test('lossless parser equals JSON.parse on the real captures', () => {
    for (const f of ['export-metrics.wire.json', 'export-metrics.pretty.json', 'registered-metrics.wire.json']) {
      const text = fixture(f);
      expect(parseLossless(text), f).toEqual(JSON.parse(text));
    }
  });

  test('integers beyond 2^53 come back exact as bigint, safe ones as numbers', () => {
    const v = parseJson(
      '{"a":9223372036854775807,"b":-9223372036854775808,"c":18446744073709551615,"d":9007199254740991,"e":-9007199254740993,"f":1234567890123456,"g":-0}',
    ) as Record<string, unknown>;
    expect(v.a).toBe(9223372036854775807n);
    expect(v.b).toBe(-9223372036854775808n);
    expect(v.c).toBe(18446744073709551615n);
    expect(v.d).toBe(9007199254740991);
    expect(v.e).toBe(-9007199254740993n);
    expect(v.f).toBe(1234567890123456);
    expect(Object.is(v.g, 0)).toBe(true);
  });

  test('integral numbers written as floats keep their lexical kind; others are plain numbers', () => {
    const v = parseJson('{"a":1e3,"b":1.0,"c":1.5,"d":-0.0,"e":2.5e-1,"f":12345678901234567890}') as Record<
      string,
      unknown
    >;
    expect(v.a).toEqual(new FloatLiteral(1000));
    expect(v.a).toBeInstanceOf(FloatLiteral);
    expect(v.b).toBeInstanceOf(FloatLiteral);
    expect((v.b as FloatLiteral).value).toBe(1);
    expect(v.c).toBe(1.5);
    expect(v.d).toBeInstanceOf(FloatLiteral);
    expect(v.e).toBe(0.25);
    expect(v.f).toBe(12345678901234567890n);
  });

  test('strings with escapes, nested values and literals', () => {
    const text = '{"s":"a\\"b\\\\c\\n\\u00e9\\ud83d\\ude00","arr":[true,false,null,{"x":[]},{}],"n":12345678901234567}';
    expect(parseLossless(text)).toEqual({
      s: 'a"b\\c\né😀',
      arr: [true, false, null, { x: [] }, {}],
      n: 12345678901234567n,
    });
    expect(parseLossless(' \t\n{ "a" : [ 1 , 2 ] }\r\n')).toEqual({ a: [1, 2] });
  });

  test('a "__proto__" key stays an own data property', () => {
    const v = parseLossless('{"__proto__":{"polluted":1},"n":12345678901234567}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.hasOwn(v, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test.each([
    '{',
    '{"a":1,}',
    '[1 2]',
    '{"a" 1}',
    '{a:1}',
    '"abc',
    '{"a":01}',
    '{"a":-}',
    '{"a":1.}',
    '{"a":"\\x"}',
    '{"a":"\u0001"}',
    'tru',
    '[1.5] x',
    '',
  ])('syntax error %j is a DecodeError at $ on both paths', (text) => {
    for (const t of [text, `[12345678901234567,${text}]`]) {
      let err: unknown;
      try {
        parseJson(t);
      } catch (e) {
        err = e;
      }
      expect(err, t).toBeInstanceOf(DecodeError);
      expect((err as DecodeError).path).toBe('$');
    }
  });

  test('hostile nesting is refused, not a stack overflow', () => {
    const deep = `${'['.repeat(MAX_JSON_DEPTH + 2)}1.5${']'.repeat(MAX_JSON_DEPTH + 2)}`;
    expect(() => parseJson(deep)).toThrow(DecodeError);
    const ok = `${'['.repeat(100)}1.5${']'.repeat(100)}`;
    expect(() => parseJson(ok)).not.toThrow();
  });
});

describe('64-bit range helpers', () => {
  test('int64', () => {
    expect(isInt64(9223372036854775807n)).toBe(true);
    expect(isInt64(-9223372036854775808n)).toBe(true);
    expect(isInt64(9223372036854775808n)).toBe(false);
    expect(isInt64(-9223372036854775809n)).toBe(false);
    expect(isInt64(5)).toBe(true);
    expect(isInt64(1.5)).toBe(false);
    expect(isSafeInt64(-3)).toBe(true);
  });
  test('uint64', () => {
    expect(isUint64(18446744073709551615n)).toBe(true);
    expect(isUint64(18446744073709551616n)).toBe(false);
    expect(isUint64(-1)).toBe(false);
    expect(isUint64(-1n)).toBe(false);
    expect(isUint64(0)).toBe(true);
  });
});

describe('parseJsonDetected', () => {
  test("takes the caller's detection: lossless when told so, plain JSON.parse otherwise, same errors", () => {
    expect(parseJsonDetected('{"a":12345678901234567890}', true)).toEqual({ a: 12345678901234567890n });
    expect(parseJsonDetected('{"a":1.0}', true)).toEqual({ a: new FloatLiteral(1) });
    expect(parseJsonDetected('{"a":12}', false)).toEqual({ a: 12 });
    expect(() => parseJsonDetected('{"a":', false)).toThrow(DecodeError);
    expect(() => parseJsonDetected('{"a":', true)).toThrow(DecodeError);
  });
});
