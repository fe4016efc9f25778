// DeadlineGroup: a scrape's per-sandbox deadlines, cut together when the scrape's
// signal aborts, through one listener on it however many sandboxes are in flight.
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { DeadlineError, DeadlineGroup } from '../../src/deadline.js';

describe('DeadlineGroup', () => {
  it('listens on the parent once, whatever the number of deadlines, and stops on dispose', () => {
    const parent = new AbortController();
    const group = new DeadlineGroup(parent.signal);
    const ds = Array.from({ length: 200 }, () => group.timed(60_000, 'x'));
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(1);
    for (const d of ds) d.dispose();
    group.dispose();
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(0);
  });

  it('a timed cut fires on its own timer with a DeadlineError naming it, and calls its callbacks once', async () => {
    const group = new DeadlineGroup(new AbortController().signal);
    const d = group.timed(20, 'no answer within 20 ms');
    const other = group.timed(60_000, 'later');
    const seen: unknown[] = [];
    d.onCut((r) => seen.push(r));
    await new Promise((r) => setTimeout(r, 60));
    expect(d.isCut).toBe(true);
    expect(d.cutReason).toBeInstanceOf(DeadlineError);
    expect((d.cutReason as Error).message).toBe('no answer within 20 ms');
    expect(seen).toEqual([d.cutReason]);
    expect(other.isCut).toBe(false);
    d.dispose();
    other.dispose();
    group.dispose();
  });

  it('the parent aborting cuts every live timed cut with its reason, not the disposed ones', () => {
    const parent = new AbortController();
    const group = new DeadlineGroup(parent.signal);
    const live = [group.timed(60_000, 'a'), group.timed(60_000, 'b')];
    const done = group.timed(60_000, 'c');
    done.dispose();
    const reason = new Error('client went away');
    parent.abort(reason);
    for (const d of live) {
      expect(d.isCut).toBe(true);
      expect(d.cutReason).toBe(reason);
      d.dispose();
    }
    expect(done.isCut).toBe(false);
    // Made after the parent aborted: born cut, with the parent's reason.
    const late = group.timed(60_000, 'late');
    expect(late.isCut).toBe(true);
    expect(late.cutReason).toBe(reason);
    group.dispose();
  });

  it('is itself a CallCut: callbacks run once with the shared reason, removed ones never, late ones at once', async () => {
    const group = new DeadlineGroup(new AbortController().signal, 20, 'shared deadline of 20 ms');
    const seen: string[] = [];
    const keep = Array.from(
      { length: 100 },
      (_, i) =>
        (r: unknown): void =>
          void seen.push(`${i}:${(r as Error).message}`),
    );
    // A callback that removes another one still to come (as a finishing call does): that one does not run.
    group.onCut(() => group.offCut(keep[99]!));
    for (const cb of keep) group.onCut(cb);
    const removed = (): void => void seen.push('removed');
    group.onCut(removed);
    group.offCut(removed);
    expect(group.isCut).toBe(false);
    await new Promise((r) => setTimeout(r, 60));
    expect(group.isCut).toBe(true);
    expect((group.cutReason as Error).message).toBe('shared deadline of 20 ms');
    expect(seen).toHaveLength(99);
    expect(seen[0]).toBe('0:shared deadline of 20 ms');
    expect(seen).not.toContain('removed');
    let late: unknown;
    group.onCut((r) => (late = r));
    expect(late).toBe(group.cutReason);
    group.dispose();
  });

  it('with a timer of its own, cuts every live child at once with one shared DeadlineError, and no disposed one', async () => {
    const parent = new AbortController();
    const group = new DeadlineGroup(parent.signal, 20, 'no answer within the shared 20 ms');
    const live = Array.from({ length: 50 }, () => group.child());
    const gone = group.child();
    gone.dispose();
    expect(live[0]!.signal.aborted).toBe(false);
    await new Promise((r) => setTimeout(r, 60));
    const reason = live[0]!.signal.reason as Error;
    expect(reason).toBeInstanceOf(DeadlineError);
    expect(reason.message).toBe('no answer within the shared 20 ms');
    for (const d of live) {
      expect(d.signal.aborted).toBe(true);
      expect(d.signal.reason).toBe(reason);
    }
    expect(gone.signal.aborted).toBe(false);
    // A child made after the cut starts aborted with the same reason; the parent aborting later changes nothing.
    const after = group.child();
    expect(after.signal.reason).toBe(reason);
    parent.abort(new Error('late parent abort'));
    expect(live[1]!.signal.reason).toBe(reason);
    group.dispose();
  });

  it('the parent aborting before the group timer cuts the children with its reason, and the timer never fires', async () => {
    const parent = new AbortController();
    const group = new DeadlineGroup(parent.signal, 20, 'x');
    const d = group.child();
    const reason = new Error('client went away');
    parent.abort(reason);
    expect(d.signal.reason).toBe(reason);
    await new Promise((r) => setTimeout(r, 60));
    expect(d.signal.reason).toBe(reason);
    group.dispose();
  });

  it('dispose stops the group timer; members outliving it are cut at once, as its timer promised them', async () => {
    const group = new DeadlineGroup(new AbortController().signal, 20, 'x');
    expect(group.bounded).toBe(true);
    const gone = group.child();
    gone.dispose();
    const d = group.child();
    const reasons: unknown[] = [];
    group.onCut((r) => reasons.push(r));
    group.dispose();
    expect(d.signal.aborted).toBe(true);
    expect(d.signal.reason).toBeInstanceOf(DeadlineError);
    expect(gone.signal.aborted).toBe(false);
    await new Promise((r) => setTimeout(r, 60));
    expect(reasons).toHaveLength(1); // the timer did not fire after dispose
  });

  it('without a timer of its own it is not bounded, and dispose leaves its members uncut', () => {
    const group = new DeadlineGroup(new AbortController().signal);
    expect(group.bounded).toBe(false);
    const d = group.child();
    group.dispose();
    expect(d.signal.aborted).toBe(false);
    const own = group.timed(1000, 'x');
    expect(own.bounded).toBe(true);
    own.dispose();
  });

  it('a group made under an aborted parent starts cut with its reason', () => {
    const parent = new AbortController();
    const reason = new Error('gone');
    parent.abort(reason);
    const group = new DeadlineGroup(parent.signal, 60_000, 'x');
    expect(group.child().signal.reason).toBe(reason);
    expect(group.timed(60_000, 'y').cutReason).toBe(reason);
    expect(group.cutReason).toBe(reason);
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(0);
    group.dispose();
  });

  it('its errors carry no stack: they are expected failures reported by message', () => {
    const e = new DeadlineError('no answer');
    expect(e.message).toBe('no answer');
    expect(e.stack).toBe('DeadlineError: no answer');
  });
});
