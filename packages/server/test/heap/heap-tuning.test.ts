import { describe, expect, it } from 'vitest';
import { HEAP_GROWING_PERCENT, heapFlag } from '../../src/heap-tuning.js';

describe('heapFlag', () => {
  it('sets the growing step when the operator chose none', () => {
    expect(heapFlag([], undefined)).toBe(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
    expect(heapFlag(['--enable-source-maps'], '--max-old-space-size=512')).toBe(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  });
  it("leaves an operator's choice alone, from node flags or NODE_OPTIONS, in either spelling", () => {
    expect(heapFlag(['--heap-growing-percent=50'], undefined)).toBeUndefined();
    expect(heapFlag([], '--max-old-space-size=512 --heap_growing_percent=0')).toBeUndefined();
  });
});
