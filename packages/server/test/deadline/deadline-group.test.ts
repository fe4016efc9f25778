// DeadlineGroup: a scrape's per-sandbox deadlines, cut together when the scrape's
// signal aborts, through one listener on it however many sandboxes are in flight.
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { DeadlineError, DeadlineGroup } from '../../src/deadline.js';

describe('DeadlineGroup', () => {
  it('listens on the parent once, whatever the number of deadlines, and stops on dispose', () => {
    const parent = new AbortController();
    const group = new DeadlineGroup(parent.signal);
    const ds = Array.from({ length: 200 }, () => group.deadline(60_000, 'x'));
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(1);
    for (const d of ds) d.dispose();
    group.dispose();
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(0);
  });

  it('a deadline fires on its own timer with a DeadlineError naming it', async () => {
    const group = new DeadlineGroup(new AbortController().signal);
    const d = group.deadline(20, 'no answer within 20 ms');
    const other = group.deadline(60_000, 'later');
    await new Promise((r) => setTimeout(r, 60));
    expect(d.signal.aborted).toBe(true);
    expect(d.signal.reason).toBeInstanceOf(DeadlineError);
    expect((d.signal.reason as Error).message).toBe('no answer within 20 ms');
    expect(other.signal.aborted).toBe(false);
    d.dispose();
    other.dispose();
    group.dispose();
  });

  it('the parent aborting cuts every live deadline with its reason, not the disposed ones', () => {
    const parent = new AbortController();
    const group = new DeadlineGroup(parent.signal);
    const live = [group.deadline(60_000, 'a'), group.deadline(60_000, 'b')];
    const done = group.deadline(60_000, 'c');
    done.dispose();
    const reason = new Error('client went away');
    parent.abort(reason);
    for (const d of live) {
      expect(d.signal.aborted).toBe(true);
      expect(d.signal.reason).toBe(reason);
      d.dispose();
    }
    expect(done.signal.aborted).toBe(false);
    // Made after the parent aborted: born aborted, with the parent's reason.
    const late = group.deadline(60_000, 'late');
    expect(late.signal.aborted).toBe(true);
    expect(late.signal.reason).toBe(reason);
    group.dispose();
  });
});
