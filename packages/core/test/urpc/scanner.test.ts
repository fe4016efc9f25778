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
