import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { BasicAuth, parseBasicAuthorization } from '../../src/basic-auth.js';
import { memoryLogger } from '../../src/log.js';

const header = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const users = new Map([
  ['alice', bcrypt.hashSync('wonder:land', 4)],
  ['bob', bcrypt.hashSync('builder', 4).replace('$2b$', '$2y$')], // htpasswd's prefix
]);

describe('parseBasicAuthorization', () => {
  it('splits at the first colon, scheme case-insensitive, utf-8', () => {
    expect(parseBasicAuthorization(header('alice', 'a:b'))).toEqual({ user: 'alice', password: 'a:b' });
    expect(parseBasicAuthorization(`bAsIc ${Buffer.from('ü:p').toString('base64')}`)).toEqual({
      user: 'ü',
      password: 'p',
    });
    expect(parseBasicAuthorization(header('', ''))).toEqual({ user: '', password: '' });
  });
  it.each([
    undefined,
    '',
    'Bearer abc',
    'Basic',
    'Basic !!!!',
    `Basic ${Buffer.from('nocolon').toString('base64')}`,
    'Basic YQ',
  ])('rejects %j', (h) => expect(parseBasicAuthorization(h)).toBeUndefined());
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

  it('caches failures too: a repeated wrong password costs one bcrypt, and does not shadow the right one', async () => {
    const auth = new BasicAuth(users);
    for (let i = 0; i < 5; i++) expect(await auth.check(header('alice', 'wrong'))).toBe(false);
    expect(auth.bcryptRuns).toBe(1);
    expect(auth.check(header('alice', 'wrong'))).toBe(false); // answered synchronously from the cache
    expect(await auth.check(header('alice', 'wonder:land'))).toBe(true);
    expect(await auth.check(header('alice', 'wrong'))).toBe(false);
    expect(auth.bcryptRuns).toBe(2);
  });

  it('a repeated unknown user costs one bcrypt too (as a known user with a wrong password does)', async () => {
    const auth = new BasicAuth(users);
    for (let i = 0; i < 3; i++) expect(await auth.check(header('mallory', 'x'))).toBe(false);
    for (let i = 0; i < 3; i++) expect(await auth.check(header('alice', 'x'))).toBe(false);
    expect(auth.bcryptRuns).toBe(2);
  });

  it('bounds the cache, evicting the oldest pair', async () => {
    const many = new Map([...Array(3).keys()].map((i) => [`u${i}`, bcrypt.hashSync(`p${i}`, 4)] as const));
    const auth = new BasicAuth(many, { maxCacheEntries: 2 });
    for (let i = 0; i < 3; i++) expect(await auth.check(header(`u${i}`, `p${i}`))).toBe(true);
    expect(auth.check(header('u2', 'p2'))).toBe(true);
    expect(auth.check(header('u1', 'p1'))).toBe(true);
    expect(auth.check(header('u0', 'p0'))).toBeInstanceOf(Promise); // evicted
  });

  it('bounds the failure cache separately: a flood of distinct wrong passwords does not evict a verified pair', async () => {
    const auth = new BasicAuth(users, { maxCacheEntries: 2, maxFailureCacheEntries: 3 });
    expect(await auth.check(header('alice', 'wonder:land'))).toBe(true);
    for (let i = 0; i < 10; i++) expect(await auth.check(header('alice', `guess${i}`))).toBe(false);
    expect(auth.cacheSize).toBe(1 + 3);
    expect(auth.check(header('alice', 'wonder:land'))).toBe(true); // still cached, synchronously
    const runs = auth.bcryptRuns;
    expect(auth.check(header('alice', 'guess9'))).toBe(false); // among the newest three
    expect(await auth.check(header('alice', 'guess0'))).toBe(false); // evicted: compared again
    expect(auth.bcryptRuns).toBe(runs + 1);
  });
});

/** A comparer the test releases by hand, recording how many run at once. */
function heldComparer() {
  const pending: Array<{ password: string; release: (ok: boolean) => void }> = [];
  const stats = { calls: 0, active: 0, maxActive: 0 };
  const compare = (password: string): Promise<boolean> => {
    stats.calls++;
    stats.active++;
    stats.maxActive = Math.max(stats.maxActive, stats.active);
    return new Promise<boolean>((resolve) =>
      pending.push({
        password,
        release: (ok) => {
          stats.active--;
          resolve(ok);
        },
      }),
    );
  };
  /** Settles the oldest running comparison: true only for the right password. */
  const releaseNext = async (): Promise<void> => {
    const p = pending.shift();
    if (!p) throw new Error('no comparison is running');
    p.release(p.password === 'wonder:land');
    for (let i = 0; i < 5; i++) await Promise.resolve(); // let the slot pass to the next waiter
  };
  const releaseAll = async (): Promise<void> => {
    while (pending.length > 0) await releaseNext();
  };
  return { compare, stats, pending, releaseNext, releaseAll };
}

describe('BasicAuth under a flood of credentials', () => {
  it('never runs more than maxConcurrentComparisons at once; all get their verdict', async () => {
    const c = heldComparer();
    const auth = new BasicAuth(users, { compare: c.compare, maxConcurrentComparisons: 2, maxQueuedComparisons: 50 });
    const verdicts = [...Array(12).keys()].map((i) =>
      auth.check(header(i % 3 === 0 ? 'mallory' : 'alice', `guess${i}`)),
    );
    verdicts.push(auth.check(header('alice', 'wonder:land')));
    expect(verdicts.every((v) => v instanceof Promise)).toBe(true);
    await Promise.resolve();
    expect(c.stats.active).toBe(2);
    await c.releaseAll();
    const results = await Promise.all(verdicts);
    expect(results.filter((r) => r)).toHaveLength(1);
    expect(results.at(-1)).toBe(true);
    expect(c.stats.calls).toBe(13);
    expect(c.stats.maxActive).toBe(2);
  });

  it('the default is one comparison at a time', async () => {
    const c = heldComparer();
    const auth = new BasicAuth(users, { compare: c.compare });
    const verdicts = [...Array(5).keys()].map((i) => auth.check(header('alice', `guess${i}`)));
    await c.releaseAll();
    expect(await Promise.all(verdicts)).toEqual([false, false, false, false, false]);
    expect(c.stats.maxActive).toBe(1);
  });

  it('identical credentials arriving together share one comparison', async () => {
    const c = heldComparer();
    const auth = new BasicAuth(users, { compare: c.compare, maxQueuedComparisons: 0 });
    // No queue at all: the 19 followers are not refused, they join the running comparison.
    const verdicts = [...Array(20).keys()].map(() => auth.check(header('alice', 'wonder:land')));
    expect(verdicts.every((v) => v instanceof Promise)).toBe(true);
    expect(c.stats.calls).toBe(1);
    await c.releaseAll();
    expect(await Promise.all(verdicts)).toEqual(Array(20).fill(true));
  });

  it('a full queue refuses at once without comparing, logs once per burst, and cached successes still pass', async () => {
    const c = heldComparer();
    const log = memoryLogger();
    const auth = new BasicAuth(users, {
      compare: c.compare,
      maxConcurrentComparisons: 1,
      maxQueuedComparisons: 2,
      log,
    });
    // Verified before the flood.
    const first = auth.check(header('alice', 'wonder:land'));
    await c.releaseNext();
    expect(await first).toBe(true);

    const accepted = [0, 1, 2].map((i) => auth.check(header('alice', `guess${i}`))); // 1 running + 2 queued
    expect(accepted.every((v) => v instanceof Promise)).toBe(true);
    for (let i = 3; i < 10; i++) expect(auth.check(header(i % 2 ? 'mallory' : 'alice', `guess${i}`))).toBe(false); // synchronous refusals
    expect(c.stats.calls).toBe(2); // the verified one and the one running now
    expect(auth.check(header('alice', 'wonder:land'))).toBe(true); // cached: no queue, no wait
    const warnings = () => log.records().filter((r) => String(r.msg).includes('refusing new ones unchecked'));
    expect(warnings()).toHaveLength(1);

    await c.releaseAll();
    expect(await Promise.all(accepted)).toEqual([false, false, false]);
    const drained = log.records().filter((r) => String(r.msg).includes('queue drained'));
    expect(drained).toHaveLength(1);
    expect(drained[0]?.refusedUnchecked).toBe(7);

    expect(c.stats.calls).toBe(4); // the refused seven never reached the comparer

    // A second burst logs again.
    const again = [0, 1, 2].map((i) => auth.check(header('alice', `again${i}`)));
    expect(auth.check(header('alice', 'again3'))).toBe(false);
    expect(warnings()).toHaveLength(2);
    await c.releaseAll();
    await Promise.all(again);
  });

  it('a refusal for a full queue is not cached: the same credential is compared once there is room', async () => {
    const c = heldComparer();
    const auth = new BasicAuth(users, { compare: c.compare, maxQueuedComparisons: 0 });
    const busy = auth.check(header('alice', 'guess'));
    expect(auth.check(header('alice', 'wonder:land'))).toBe(false);
    await c.releaseAll();
    await busy;
    const now = auth.check(header('alice', 'wonder:land'));
    await c.releaseAll();
    expect(await now).toBe(true);
  });

  it('a comparison that throws refuses the request, is logged, and is not cached', async () => {
    const log = memoryLogger();
    let calls = 0;
    const auth = new BasicAuth(users, {
      log,
      compare: () => {
        calls++;
        return Promise.reject(new Error('boom'));
      },
    });
    expect(await auth.check(header('alice', 'wonder:land'))).toBe(false);
    expect(await auth.check(header('alice', 'wonder:land'))).toBe(false);
    expect(calls).toBe(2);
    expect(log.lines.some((l) => l.includes('bcrypt comparison failed') && l.includes('boom'))).toBe(true);
  });

  it('rejects nonsense bounds at construction', () => {
    expect(() => new BasicAuth(users, { maxConcurrentComparisons: 0 })).toThrow(
      /maxConcurrentComparisons must be an integer >= 1/,
    );
    expect(() => new BasicAuth(users, { maxQueuedComparisons: -1 })).toThrow(
      /maxQueuedComparisons must be an integer >= 0/,
    );
    expect(() => new BasicAuth(users, { maxFailureCacheEntries: 0.5 })).toThrow(/maxFailureCacheEntries/);
  });
});
