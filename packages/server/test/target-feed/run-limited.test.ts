// runLimited: the scrape's query pump (at most `limit` queries in flight, results
// recorded one at a time as they come, the first record error ends it).
import { describe, expect, it } from 'vitest';
import { runLimited, TargetFeed } from '../../src/target-feed.js';

/** A query whose promise the test settles by hand. */
function manual() {
  const pending = new Map<number, (v: string) => void>();
  let inFlight = 0;
  let most = 0;
  const query = (item: number): Promise<string> =>
    new Promise((resolve) => {
      inFlight++;
      most = Math.max(most, inFlight);
      pending.set(item, (v) => {
        inFlight--;
        resolve(v);
      });
    });
  return { pending, query, most: () => most };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('runLimited', () => {
  it('keeps at most `limit` queries in flight and records every result in completion order', async () => {
    const m = manual();
    const seen: string[] = [];
    const done = runLimited([0, 1, 2, 3, 4, 5, 6], 3, m.query, (item, started, result) => {
      expect(typeof started).toBe('number');
      seen.push(`${item}:${result}`);
    });
    await tick();
    expect([...m.pending.keys()]).toEqual([0, 1, 2]);
    for (const i of [1, 0, 2, 4, 3, 6, 5]) {
      await tick();
      m.pending.get(i)!(`r${i}`);
    }
    await done;
    expect(seen).toEqual(['1:r1', '0:r0', '2:r2', '4:r4', '3:r3', '6:r6', '5:r5']);
    expect(m.most()).toBe(3);
  });

  it('takes items pushed to an open feed as they come, and resolves once it is closed', async () => {
    const m = manual();
    const feed = new TargetFeed<number>([0], true);
    const seen: number[] = [];
    let resolved = false;
    const done = runLimited(feed, 2, m.query, (item) => void seen.push(item)).then(() => {
      resolved = true;
    });
    await tick();
    expect([...m.pending.keys()]).toEqual([0]);
    m.pending.get(0)!('a');
    await tick();
    expect(resolved).toBe(false); // nothing in flight, but the feed is open
    feed.push(1);
    feed.push(2);
    feed.push(3);
    await tick();
    expect([...m.pending.keys()]).toEqual([0, 1, 2]);
    for (const i of [1, 2]) m.pending.get(i)!('b');
    await tick();
    feed.close();
    feed.push(4); // ignored once closed
    m.pending.get(3)!('c');
    await done;
    expect(seen).toEqual([0, 1, 2, 3]);
    expect(m.most()).toBe(2);
  });

  it('resolves at once for no items, and treats a limit below 1 as 1', async () => {
    await runLimited(
      [],
      4,
      () => Promise.reject(new Error('never called')),
      () => undefined,
    );
    const m = manual();
    const done = runLimited([0, 1], 0, m.query, () => undefined);
    await tick();
    expect([...m.pending.keys()]).toEqual([0]);
    m.pending.get(0)!('a');
    await tick();
    m.pending.get(1)!('b');
    await done;
    expect(m.most()).toBe(1);
  });

  it('rejects with the first error a record throws and starts nothing after it', async () => {
    const m = manual();
    const recorded: number[] = [];
    const done = runLimited([0, 1, 2, 3], 2, m.query, (item) => {
      recorded.push(item);
      if (item === 1) throw new Error('record failed');
    });
    await tick();
    m.pending.get(1)!('x');
    await expect(done).rejects.toThrow('record failed');
    m.pending.get(0)!('y'); // still in flight: its result is dropped
    await tick();
    expect(recorded).toEqual([1]);
    expect([...m.pending.keys()]).toEqual([0, 1]); // 2 and 3 never started
  });
});
