import { describe, expect, it } from 'vitest';
import { RequestScanner } from '../../src/urpc/scanner.js';
import { goJson } from '../../src/wire/go-json.js';

describe('goJson', () => {
  it('escapes what Go escapes and nothing else', () => {
    expect(goJson({ a: '<b>&c\u2028é"\n' })).toBe('{"a":"\\u003cb\\u003e\\u0026c\\u2028é\\"\\n"}');
    expect(goJson({ a: 'plain' })).toBe('{"a":"plain"}');
  });
});

describe('RequestScanner', () => {
  it('finds the end of an object split anywhere, ignoring braces in strings', () => {
    const s = new RequestScanner();
    const msg = '{"method":"a}{\\"b","arg":{"x":[1,{"y":"]"}]}}';
    for (let i = 0; i < msg.length - 1; i++) expect(s.push(Buffer.from(msg[i] as string)).kind).toBe('incomplete');
    expect(s.push(Buffer.from(msg.slice(-1)))).toEqual({ kind: 'complete', text: msg });
  });

  it('rejects a non-object start and drops bytes after the first value', () => {
    expect(new RequestScanner().push(Buffer.from('hello')).kind).toBe('invalid');
    const s = new RequestScanner();
    expect(s.push(Buffer.from('{"a":1}{"b":2}'))).toEqual({ kind: 'complete', text: '{"a":1}' });
    expect(s.push(Buffer.from('{"c":3}'))).toEqual({ kind: 'complete', text: '{"c":3}' });
  });
});
