import { describe, expect, it } from 'vitest';
import { DeadlineError, DeadlineGroup, deadline } from '../../src/deadline.js';
import { KeyedQueue } from '../../src/queue.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A cut that never comes (a group without a timer whose parent never aborts). */
const never = () => new DeadlineGroup(new AbortController().signal);

describe('KeyedQueue', () => {
  it('runs one key at a time, keys independently', async () => {
    const q = new KeyedQueue<object>();
    const a = {};
    const b = {};
    const log: string[] = [];
    const job = (name: string, ms: number) => async () => {
      log.push(`start ${name}`);
      await sleep(ms);
      log.push(`end ${name}`);
      return name;
    };
    const results = await Promise.all([
      q.run(a, never(), job('a1', 40)),
      q.run(a, never(), job('a2', 10)),
      q.run(b, never(), job('b1', 10)),
    ]);
    expect(results).toEqual(['a1', 'a2', 'b1']);
    expect(log.indexOf('end a1')).toBeLessThan(log.indexOf('start a2'));
    expect(log.indexOf('start b1')).toBeLessThan(log.indexOf('end a1'));
  });

  // A run whose own promise rejects when cut (a urpc call registered with the cut) is not
  // raced: its promise is returned as is, and the cut's reason is the caller's to report.
  it('does not race a run that settles on its cut; still releases the key when it settles', async () => {
    const q = new KeyedQueue<object>();
    const k = {};
    let made!: Promise<string>;
    const cut = new DeadlineGroup(new AbortController().signal, 20, 'per-sandbox deadline');
    const settling = () => {
      made = new Promise<string>((_resolve, reject) => cut.onCut(() => reject(new Error('urpc: call aborted'))));
      return made;
    };
    const run = q.run(k, cut, settling, true);
    expect(run).toBe(made);
    const failed = await run.then(() => undefined, cut.failure);
    expect(failed).toBeInstanceOf(DeadlineError);
    expect(failed?.message).toBe('per-sandbox deadline');
    // Raced (the default), a run that never settles still rejects at the cut.
    const later = new DeadlineGroup(new AbortController().signal, 20, 'raced');
    await expect(q.run({}, later, () => new Promise<string>(() => {}))).rejects.toThrow('raced');
    // The key is free again once the unraced run settled.
    await expect(q.run(k, never(), async () => 'next', true)).resolves.toBe('next');
    // An error before any cut stays the call's own.
    const early = never();
    const own = await q
      .run({}, early, () => Promise.reject(new Error('refused')), true)
      .then(() => undefined, early.failure);
    expect(own?.message).toBe('refused');
  });

  it('a waiter that times out gives up, and an abandoned run still blocks its successor until it settles', async () => {
    const q = new KeyedQueue<object>();
    const k = {};
    let releaseFirst!: () => void;
    // The first caller gives up after 30 ms, but its call keeps running until released.
    const firstDeadline = new DeadlineGroup(new AbortController().signal, 30, 'first abandoned');
    const first = q
      .run(k, firstDeadline, () => new Promise<string>((r) => (releaseFirst = () => r('first'))))
      .then(String, (e: Error) => e.message);
    const d = new DeadlineGroup(new AbortController().signal, 50, 'waited too long');
    const started: string[] = [];
    await expect(
      q.run(k, d, async () => {
        started.push('second');
        return 'second';
      }),
    ).rejects.toThrow('waited too long');
    d.dispose();
    expect(started).toEqual([]);
    expect(await first).toBe('first abandoned');
    firstDeadline.dispose();
    const third = q.run(k, never(), async () => 'third');
    let thirdDone = false;
    void third.then(() => (thirdDone = true));
    await sleep(60);
    expect(thirdDone).toBe(false);
    releaseFirst();
    expect(await third).toBe('third');
  });
});

describe('deadline', () => {
  it('aborts with a DeadlineError after the time, or with the parent reason first', async () => {
    const d = deadline(new AbortController().signal, 20, 'too slow');
    await sleep(40);
    expect(d.signal.aborted).toBe(true);
    expect(d.signal.reason).toBeInstanceOf(DeadlineError);
    expect((d.signal.reason as Error).message).toBe('too slow');
    const parent = new AbortController();
    const e = deadline(parent.signal, 10_000, 'never');
    parent.abort(new Error('client gone'));
    expect((e.signal.reason as Error).message).toBe('client gone');
    e.dispose();
  });

  it('with nothing of the key running, starts the run at once; a run settled earlier does not delay the next', async () => {
    const q = new KeyedQueue<object>();
    const k = {};
    let started = 0;
    const job = async () => {
      started++;
      return started;
    };
    const first = q.run(k, never(), job);
    expect(started).toBe(1); // called within run(): no wait
    await first;
    const second = q.run(k, never(), job);
    expect(started).toBe(2);
    expect(await second).toBe(2);
  });

  it('never throws: a run whose fn throws at once rejects with it and does not block the key', async () => {
    const q = new KeyedQueue<object>();
    const k = {};
    const boom = new Error('thrown, not rejected');
    const thrower = (): Promise<string> => {
      throw boom;
    };
    let first!: Promise<string>;
    expect(() => (first = q.run(k, never(), thrower))).not.toThrow();
    await expect(first).rejects.toBe(boom);
    // The same behind a run still going (the waiting path).
    let release!: () => void;
    const blocker = q.run(k, never(), () => new Promise<string>((r) => (release = () => r('blocker'))));
    const waiting = q.run(k, never(), thrower);
    release();
    expect(await blocker).toBe('blocker');
    await expect(waiting).rejects.toBe(boom);
    expect(await q.run(k, never(), async () => 'next')).toBe('next');
  });

  it('an already cut run is never called, and does not block the key', async () => {
    const q = new KeyedQueue<object>();
    const k = {};
    const gone = new AbortController();
    const reason = new Error('client left');
    gone.abort(reason);
    let called = false;
    await expect(q.run(k, new DeadlineGroup(gone.signal), async () => (called = true))).rejects.toBe(reason);
    expect(called).toBe(false);
    expect(await q.run(k, never(), async () => 'next')).toBe('next');
  });
});
