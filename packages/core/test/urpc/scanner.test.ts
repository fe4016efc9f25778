import { describe, expect, it } from 'vitest';
import { JsonObjectScanner, LeadingGarbageError } from '../../src/urpc/scanner.js';

/** Feeds `text` in pieces of `size` bytes; returns the absolute end offset or -1. */
function scanInPieces(text: string, size: number): number {
  const bytes = Buffer.from(text, 'utf8');
  const s = new JsonObjectScanner();
  for (let i = 0; i < bytes.length; i += size) {
    const end = s.push(bytes.subarray(i, i + size));
    if (end >= 0) return i + end;
  }
  return -1;
}

const TRICKY = '{"success":true,"err":"a } ] { [ \\" \\\\","result":{"x":["}\\\\\\"{",{"y":"é😀}"}],"z":null}}';

describe('JsonObjectScanner', () => {
  it('finds the end of an object delivered in one chunk', () => {
    const text = '{"a":{"b":[1,2,{}]}}';
    expect(scanInPieces(text, 1000)).toBe(text.length);
  });

  it('finds the same end at every chunk size, with braces, brackets and escaped quotes inside strings', () => {
    JSON.parse(TRICKY); // the fixture itself is valid JSON
    const len = Buffer.byteLength(TRICKY);
    for (const size of [1, 2, 3, 5, 7, 13, len - 1, len]) {
      expect(scanInPieces(TRICKY, size), `chunk size ${size}`).toBe(len);
    }
  });

  it('reports the end inside a chunk that carries more bytes after it', () => {
    const s = new JsonObjectScanner();
    expect(s.push(Buffer.from('{"a":"}"}  xyz'))).toBe(9);
    expect(s.complete).toBe(true);
  });

  it('does not end early on a string ending in an escaped backslash', () => {
    const text = '{"a":"\\\\"}';
    expect(scanInPieces(text, 1)).toBe(text.length);
  });

  it('accepts leading whitespace and still waits for the object', () => {
    const s = new JsonObjectScanner();
    expect(s.push(Buffer.from(' \n\t'))).toBe(-1);
    expect(s.push(Buffer.from('{}'))).toBe(2);
  });

  it('rejects leading garbage at its first byte, without waiting for more', () => {
    const s = new JsonObjectScanner();
    expect(() => s.push(Buffer.from('h'))).toThrow(LeadingGarbageError);
    expect(() => new JsonObjectScanner().push(Buffer.from('  [1]'))).toThrow(/first byte 0x5b/);
    expect(() => new JsonObjectScanner().push(Buffer.from('"x"'))).toThrow(LeadingGarbageError);
  });

  it('keeps waiting while the object is open', () => {
    const s = new JsonObjectScanner();
    expect(s.push(Buffer.from('{"a":"}}}}'))).toBe(-1);
    expect(s.complete).toBe(false);
    expect(s.push(Buffer.from('"'))).toBe(-1);
    expect(s.push(Buffer.from('}'))).toBe(1);
  });
});

describe('JsonObjectScanner.needsLossless', () => {
  function detect(text: string, size: number): boolean {
    const bytes = Buffer.from(text, 'utf8');
    const s = new JsonObjectScanner();
    for (let i = 0; i < bytes.length && !s.complete; i += size) s.push(bytes.subarray(i, i + size));
    expect(s.complete).toBe(true);
    return s.needsLossless;
  }
  const cases: [string, boolean][] = [
    ['{"a":1,"b":[123456789012345,-2],"c":true,"d":false,"e":null}', false],
    ['{"when":"2026-11-27T22:48:05.333741011Z","help":"1.5e3 ratio: 1.5, 12345678901234567"}', false],
    ['{"a":1234567890123456}', true],
    ['{"a":-9223372036854775808}', true],
    ['{"a":[1.0]}', true],
    ['{"a":1e3}', true],
    ['{"a":1E+3}', true],
    ['{"a":-0.5}', true],
    ['{"s":"\\"\\\\","a":2.5}', true],
    ['{"s":"x\\\\","a":2}', false],
  ];
  it('flags 16+ digit runs and fraction/exponent numbers outside strings only, at every chunk size', () => {
    for (const [text, want] of cases) {
      JSON.parse(text);
      for (const size of [1, 2, 3, 7, text.length])
        expect(detect(text, size), `${text} in pieces of ${size}`).toBe(want);
    }
  });
  it('never misses what the regex of prom-format would flag outside strings (random numbers)', () => {
    let seed = 7;
    const rnd = (k: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % k;
    };
    for (let t = 0; t < 300; t++) {
      const digits = Array.from({ length: 1 + rnd(20) }, () => String(rnd(10)))
        .join('')
        .replace(/^0+(?=\d)/, '');
      const frac = rnd(3) === 0 ? `.${rnd(100)}` : '';
      const exp = rnd(4) === 0 ? `e${rnd(2) ? '-' : ''}${rnd(30)}` : '';
      const num = `${rnd(2) ? '-' : ''}${digits}${frac}${exp}`;
      const text = `{"s":"a\\\\b","v":[${num}]}`;
      JSON.parse(text);
      const want = digits.length >= 16 || frac !== '' || exp !== '';
      expect(detect(text, 1 + rnd(9)), text).toBe(want);
    }
  });
});
