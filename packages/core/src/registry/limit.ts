// Runs `fn` over `items` with at most `limit` in flight. `fn` must not reject (callers catch).
import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * Longest stretch of synchronous work between two event-loop turns. State files are read
 * and parsed synchronously (~0.3 ms each): a pass over 1000 of them at start-up would
 * otherwise hold the loop for a third of a second, and a scrape's socket reads with it.
 */
const SLICE_MS = 4;

export async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let sliceStart = performance.now();
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
      if (performance.now() - sliceStart >= SLICE_MS) {
        await nextTurn();
        sliceStart = performance.now();
      }
    }
  };
  const n = Math.max(1, Math.min(limit, items.length));
  await Promise.all(Array.from({ length: n }, worker));
}
