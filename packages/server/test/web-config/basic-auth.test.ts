import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { BasicAuth, parseBasicAuthorization } from '../../src/basic-auth.js';

const header = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const users = new Map([
  ['alice', bcrypt.hashSync('wonder:land', 4)],
  ['bob', bcrypt.hashSync('builder', 4).replace('$2b$', '$2y$')], // htpasswd's prefix
]);

describe('parseBasicAuthorization', () => {
  it('splits at the first colon, scheme case-insensitive, utf-8', () => {
    expect(parseBasicAuthorization(header('alice', 'a:b'))).toEqual({ user: 'alice', password: 'a:b' });
    expect(parseBasicAuthorization(`bAsIc ${Buffer.from('ü:p').toString('base64')}`)).toEqual({ user: 'ü', password: 'p' });
    expect(parseBasicAuthorization(header('', ''))).toEqual({ user: '', password: '' });
  });
  it.each([undefined, '', 'Bearer abc', 'Basic', 'Basic !!!!', `Basic ${Buffer.from('nocolon').toString('base64')}`, 'Basic YQ'])(
    'rejects %j',
    (h) => expect(parseBasicAuthorization(h)).toBeUndefined(),
  );
});

describe('BasicAuth', () => {
  it('with no users every request passes', () => {
    const auth = new BasicAuth(new Map());
    expect(auth.enabled).toBe(false);
    expect(auth.check(undefined)).toBe(true);
  });

  it('accepts the right password ($2b$ and $2y$ hashes), refuses wrong ones, unknown users and no header', async () => {
    const auth = new BasicAuth(users);
    expect(await auth.check(header('alice', 'wonder:land'))).toBe(true);
    expect(await auth.check(header('bob', 'builder'))).toBe(true);
    expect(await auth.check(header('alice', 'builder'))).toBe(false);
    expect(await auth.check(header('mallory', 'builder'))).toBe(false);
    expect(await auth.check(header('Alice', 'wonder:land'))).toBe(false); // user names are exact
    expect(auth.check(undefined)).toBe(false);
    expect(auth.check('Basic garbage!')).toBe(false);
  });

  it('an unknown user still costs a bcrypt (no fast path revealing which users exist)', async () => {
    const auth = new BasicAuth(users);
    const before = auth.bcryptRuns;
    expect(await auth.check(header('mallory', 'x'))).toBe(false);
    expect(auth.bcryptRuns).toBe(before + 1);
  });

  it('caches a verified pair for the TTL: one bcrypt per TTL, answered synchronously meanwhile', async () => {
    let now = 1_000_000;
    const auth = new BasicAuth(users, { cacheTtlMs: 60_000, now: () => now });
    expect(await auth.check(header('alice', 'wonder:land'))).toBe(true);
    expect(auth.bcryptRuns).toBe(1);
    for (let i = 0; i < 4; i++) {
      now += 15_000 - 1; // a 15 s scrape interval
      expect(auth.check(header('alice', 'wonder:land'))).toBe(true);
    }
    expect(auth.bcryptRuns).toBe(1);
    now += 10; // past the TTL
    const verdict = auth.check(header('alice', 'wonder:land'));
    expect(verdict).toBeInstanceOf(Promise);
    expect(await verdict).toBe(true);
    expect(auth.bcryptRuns).toBe(2);
  });

  it('never caches failures, and a cached pair does not admit another password', async () => {
    const auth = new BasicAuth(users);
    expect(await auth.check(header('alice', 'wonder:land'))).toBe(true);
    expect(await auth.check(header('alice', 'wrong'))).toBe(false);
    expect(await auth.check(header('alice', 'wrong'))).toBe(false);
    expect(auth.bcryptRuns).toBe(3);
  });

  it('bounds the cache, evicting the oldest pair', async () => {
    const many = new Map([...Array(3).keys()].map((i) => [`u${i}`, bcrypt.hashSync(`p${i}`, 4)] as const));
    const auth = new BasicAuth(many, { maxCacheEntries: 2 });
    for (let i = 0; i < 3; i++) expect(await auth.check(header(`u${i}`, `p${i}`))).toBe(true);
    expect(auth.check(header('u2', 'p2'))).toBe(true);
    expect(auth.check(header('u1', 'p1'))).toBe(true);
    expect(auth.check(header('u0', 'p0'))).toBeInstanceOf(Promise); // evicted
  });
});
