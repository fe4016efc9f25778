import { describe, expect, it } from 'vitest';
import { goQuote } from '../../src/goquote.js';
import { cleanPath, escapePath, parseQuery, splitTarget, unescapeUrl } from '../../src/url.js';

describe('Go url semantics', () => {
  it('cleans paths like ServeMux, keeping a trailing slash', () => {
    expect(cleanPath('')).toBe('/');
    expect(cleanPath('/')).toBe('/');
    expect(cleanPath('//metrics')).toBe('/metrics');
    expect(cleanPath('/a/../metrics')).toBe('/metrics');
    expect(cleanPath('/../..')).toBe('/');
    expect(cleanPath('/a/./b/')).toBe('/a/b/');
    expect(cleanPath('/a/b/.')).toBe('/a/b');
    expect(cleanPath('metrics')).toBe('/metrics');
  });

  it('parses queries: + is space, first error kept, bad pairs skipped, ; rejected', () => {
    const q = parseQuery('a=1&a=2&b=x+y%21&c&bad=%zz&d=ok');
    expect(q.values.get('a')).toEqual(['1', '2']);
    expect(q.values.get('b')).toEqual(['x y!']);
    expect(q.values.get('c')).toEqual(['']);
    expect(q.values.has('bad')).toBe(false);
    expect(q.values.get('d')).toEqual(['ok']);
    expect(q.error).toBe('invalid URL escape "%zz"');
    expect(parseQuery('a=1;b=2').error).toBe('invalid semicolon separator in query');
  });

  it('unescapes paths without turning + into a space, and UTF-8 sequences', () => {
    expect(unescapeUrl('/a+b%20c', false)).toBe('/a+b c');
    expect(unescapeUrl('%C3%A9', false)).toBe('é');
    expect(() => unescapeUrl('%4', false)).toThrow('invalid URL escape "%4"');
  });

  it('splits origin-form and absolute-form targets', () => {
    expect(splitTarget('/metrics?x=1')).toEqual({ rawPath: '/metrics', rawQuery: 'x=1' });
    expect(splitTarget('http://h:1/metrics?x')).toEqual({ rawPath: '/metrics', rawQuery: 'x' });
    expect(escapePath('/metrics?a b')).toBe('/metrics%3Fa%20b');
  });
});

describe('goQuote (%q)', () => {
  it('escapes like strconv.Quote', () => {
    expect(goQuote('^fs_')).toBe('"^fs_"');
    expect(goQuote('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(goQuote('\n\t\x07\x00\x7f')).toBe('"\\n\\t\\a\\x00\\x7f"');
    expect(goQuote('é\u0085\u2028')).toBe('"é\\u0085\\u2028"');
  });
});
