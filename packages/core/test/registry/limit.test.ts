// forEachLimit: at most `limit` in flight, and the event loop gets a turn every few ms
// even when every item is synchronous work (a start-up pass parses files synchronously).
import { describe, expect, it } from 'vitest';
import { forEachLimit } from '../../src/registry/limit.js';

const busy = (ms: number): void => {
  const end = performance.now() + ms;
  while (performance.now() < end) {}
};

describe('forEachLimit', () => {
  it('runs every item with at most `limit` in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const done: number[] = [];
    await forEachLimit([0, 1, 2, 3, 4, 5, 6, 7], 3, async (i) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 5 - (i % 3)));
      inFlight--;
      done.push(i);
    });
    expect(done.sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(most).toBe(3);
  });

  it('yields to the event loop between items of synchronous work', async () => {
    let processed = 0;
    let seenAt: number | undefined;
    setImmediate(() => {
      seenAt = processed;
    });
    // 40 items of 1 ms each, no real await: without yields the immediate would run after all 40.
    await forEachLimit(
      Array.from({ length: 40 }, (_, i) => i),
      8,
      async () => {
        busy(1);
        processed++;
      },
    );
    expect(processed).toBe(40);
    expect(seenAt).toBeDefined();
    expect(seenAt as number).toBeLessThan(20);
  });
});
