// Expected values are the examples of Go's path/filepath and strings documentation.
import { describe, expect, it } from 'vitest';
import { clean, dir, fields, join, parseUint64, rel, scanLines, trimSpace } from '../../src/resources/go-text.js';

describe('Go path functions', () => {
  it('clean', () => {
    const cases: [string, string][] = [
      ['a/c', 'a/c'],
      ['a//c', 'a/c'],
      ['a/c/.', 'a/c'],
      ['a/c/b/..', 'a/c'],
      ['/../a/c', '/a/c'],
      ['/../a/b/../././/c', '/a/c'],
      ['', '.'],
      ['/', '/'],
      ['//a/', '/a'],
      ['../../x/..', '../..'],
      ['a/..', '.'],
    ];
    for (const [p, want] of cases) expect(clean(p), p).toBe(want);
  });

  it('join', () => {
    expect(join('a', 'b', 'c')).toBe('a/b/c');
    expect(join('a', 'b/c')).toBe('a/b/c');
    expect(join('a/b', '/c')).toBe('a/b/c');
    expect(join('a/b', '../../../xyz')).toBe('../xyz');
    expect(join('', '')).toBe('');
    expect(join('/sys/fs/cgroup', '.', 'cpu.stat')).toBe('/sys/fs/cgroup/cpu.stat');
    expect(join('/sys/fs/cgroup', 'cpuacct', '', 'cpuacct.usage')).toBe('/sys/fs/cgroup/cpuacct/cpuacct.usage');
  });

  it('dir', () => {
    const cases: [string, string][] = [
      ['/foo/bar/baz.js', '/foo/bar'],
      ['/foo/bar/baz', '/foo/bar'],
      ['/foo/bar/baz/', '/foo/bar/baz'],
      ['/dirty//path///', '/dirty/path'],
      ['dev.txt', '.'],
      ['../todo.txt', '..'],
      ['..', '.'],
      ['.', '.'],
      ['/', '/'],
      ['', '.'],
      ['/sb-a', '/'],
    ];
    for (const [p, want] of cases) expect(dir(p), p).toBe(want);
  });

  it('rel', () => {
    expect(rel('/a', '/a/b/c')).toBe('b/c');
    expect(rel('/a', '/b/c')).toBe('../b/c');
    expect(() => rel('/a', './b/c')).toThrow("Rel: can't make ./b/c relative to /a");
    expect(rel('/', '/sb-a')).toBe('sb-a');
    expect(rel('/', '/')).toBe('.');
    expect(rel('/a/b', '/a')).toBe('..');
    expect(rel('/docker/x', '/docker/x/sb')).toBe('sb');
    expect(rel('.', 'a')).toBe('a');
    expect(rel('a', 'b')).toBe('../b');
    expect(() => rel('..', 'a')).toThrow(/can't make/);
  });
});

describe('Go text functions', () => {
  it('trimSpace and fields use unicode.IsSpace (not U+FEFF)', () => {
    expect(trimSpace(' \t12\n\u0085')).toBe('12');
    expect(trimSpace('\ufeff12')).toBe('\ufeff12');
    expect(fields('  a b\t\tc \n')).toEqual(['a', 'b', 'c']);
    expect(fields('   ')).toEqual([]);
  });

  it('scanLines: no token after a final newline, one trailing CR dropped', () => {
    expect(scanLines('')).toEqual([]);
    expect(scanLines('a\nb\n')).toEqual(['a', 'b']);
    expect(scanLines('a\r\n\nb')).toEqual(['a', '', 'b']);
  });

  it('parseUint64 takes plain decimal digits up to 2^64-1', () => {
    expect(parseUint64('0')).toBe(0);
    expect(parseUint64('007')).toBe(7);
    expect(parseUint64('9007199254740993')).toBe(9007199254740993n);
    expect(parseUint64('18446744073709551615')).toBe(18446744073709551615n);
    for (const bad of ['', '18446744073709551616', '-1', '+1', '1_000', ' 1', '1.0', '1e3', '0x10']) {
      expect(parseUint64(bad), bad).toBeUndefined();
    }
  });
});
