import { flockLocker, lockPath } from '@org/metricserver-core';
import { createFleet } from '@org/metricserver-fake-sandbox';
import { type Snapshot, snapshotOf } from '@org/metricserver-prom-format';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { createCoreBackend } from '../../src/core-backend.js';
import { DeadlineGroup } from '../../src/deadline.js';
import { memoryLogger } from '../../src/log.js';
import { onCleanup, tempDir } from '../support/server.js';

/** A two-sandbox fake fleet in a fresh root, and the core backend over that root (both closed after the test). */
async function fleetWithBackend() {
  const root = tempDir('ms-backend-');
  const address = `${root}/m.sock`;
  const fleet = await createFleet({ root, metricServer: address, count: 2 });
  onCleanup(() => fleet.close());
  const backend = createCoreBackend(resolveConfig({ root, metricServer: address }), memoryLogger());
  onCleanup(() => backend.close?.());
  return { root, fleet, backend };
}

describe('core backend', () => {
  it('exports verified snapshots, and after stop() keeps serving known sandboxes without discovering new ones', async () => {
    const { fleet, backend } = await fleetWithBackend();
    await backend.refresh();
    const targets = backend.targets();
    expect(targets.map((t) => t.id).sort()).toEqual(fleet.sandboxes.map((s) => s.id).sort());
    expect(backend.totalSandboxes()).toBe(2);
    const t = targets[0]!;
    expect(t.isRunning()).toBe(true);
    expect(t.labels.sandbox).toBe(t.id);
    expect(t.labels.iteration).toMatch(/^[0-9a-z]+$/);
    expect(t.meta?.capabilities.length).toBeGreaterThan(0);
    // The verified points reach `render` once, inside the export; they are valid only then.
    const exportOnce = async (): Promise<Snapshot[]> => {
      const seen: Snapshot[] = [];
      await t.exportInto('', undefined, new DeadlineGroup(new AbortController().signal), (p) =>
        seen.push(snapshotOf(p)),
      );
      return seen;
    };
    const [snap] = await exportOnce();
    expect(snap!.data.length).toBeGreaterThan(10);
    // A second export is verified against the first (monotonic counters, later time).
    const again = await exportOnce();
    expect(again).toHaveLength(1);
    expect(again[0]!.data.length).toBe(snap!.data.length);

    backend.stop();
    await fleet.add();
    await backend.refresh();
    expect(backend.targets().length).toBe(2);
  });

  // With the inotify watch's change count, a refresh after a clean whole pass only checks
  // the processes: a state file the count does not know of is not listed until it does.
  it('lists the root again only when the root change count moves, or after a pass found a locked file', async () => {
    const { root, fleet, backend } = await fleetWithBackend();
    let count: number | undefined = 0;
    backend.useRootChanges!({ changeCount: () => count });
    const served = async (): Promise<number> => {
      await backend.refresh();
      return backend.targets().length;
    };
    expect(await served()).toBe(2);
    await fleet.add(); // unseen by the count: a liveness check only
    expect(await served()).toBe(2);
    count++;
    expect(await served()).toBe(3);

    // A pass that meets a locked state file is not clean: the next refresh lists again.
    const locked = await fleet.add();
    count++;
    const hold = flockLocker.tryLock(lockPath(root, locked.id, locked.id));
    if (hold === 'locked') throw new Error('the new sandbox lock is held elsewhere');
    expect(await served()).toBe(3);
    hold.release();
    expect(await served()).toBe(4);

    // No watch (undefined): every refresh lists.
    count = undefined;
    await fleet.add();
    expect(await served()).toBe(5);
  });
});
