import { describe, expect, it } from 'vitest';
import type { DiscoveryFs } from '../../src/fs/index.js';
import { type Logger, SandboxRegistry } from '../../src/registry/index.js';
import type { SandboxView } from '../../src/sandbox/index.js';
import { FakeLocker, fixture, memDiscoveryFs, stateJson } from '../support/memfs.js';

const ROOT = '/root';
const ADDR = 'BASE/metrics.sock';
const f = (name: string) => `${ROOT}/${name}`;

/** The real capture's root directory (one state file per container), in memfs. */
function realRoot(): Record<string, string> {
  return {
    [f('sb-a_sandbox:sb-a.state')]: fixture('state-file.json'),
    [f('sb-b_sandbox:sb-b.state')]: fixture('state-file-pod-root.json'),
    [f('sb-b-c2_sandbox:sb-b.state')]: fixture('state-file-subcontainer.json'),
    [f('sb-c_sandbox:sb-c.state')]: fixture('state-file-runtime-root-placeholder.json'),
    [f('sb-d_sandbox:sb-d.state')]: fixture('state-file-no-metric-server.json'),
    [f('sb-e_sandbox:sb-e.state')]: fixture('state-file-id-placeholder.json'),
    [f('sb-f_sandbox:sb-f.state')]: fixture('state-file-created-not-started.json'),
    [f('sb-g_sandbox:sb-g.state')]: fixture('state-file-tz-offset.json'),
    [f('runsc-sb-a.sock')]: '',
  };
}

class RecordingLogger implements Logger {
  readonly lines: string[] = [];
  info(msg: string): void {
    this.lines.push(`I ${msg}`);
  }
  warn(msg: string): void {
    this.lines.push(`W ${msg}`);
  }
  take(): string[] {
    return this.lines.splice(0);
  }
}

interface Prepared {
  readonly view: SandboxView;
  released: boolean;
}

function setup(
  files: Record<string, string> = realRoot(),
  opts: { live?: Set<number>; prepare?: (v: SandboxView) => Prepared; syncStat?: boolean } = {},
) {
  const { fs, vol } = memDiscoveryFs(files, { syncStat: opts.syncStat });
  const locker = new FakeLocker();
  const log = new RecordingLogger();
  const live = opts.live ?? new Set([10186, 10760, 11238, 11280, 12074, 15044, 16081]);
  const reg = new SandboxRegistry<Prepared>({
    root: ROOT,
    serverAddress: ADDR,
    fs,
    locker,
    log,
    isAlive: (pid) => live.has(pid),
    prepare: opts.prepare ?? ((view) => ({ view, released: false })),
    release: (state) => {
      state.released = true;
    },
  });
  return { reg, vol, fs, locker, log, live };
}

const ids = (reg: SandboxRegistry<Prepared>) => reg.served().map((s) => s.id);

describe('SandboxRegistry discovery on the real root directory', () => {
  it('serves exactly the sandboxes that asked for this server and are alive', async () => {
    const { reg, log } = setup();
    const out = await reg.refresh();
    expect(out).toMatchObject({ rootListed: true, skipped: false, removed: [], busy: [] });
    expect([...out.added].sort()).toEqual(['sb-a', 'sb-b', 'sb-f', 'sb-g']);
    expect(ids(reg)).toEqual(['sb-a', 'sb-b', 'sb-f', 'sb-g']);
    expect(reg.totalRegistered).toBe(4);
    const b = reg.get('sb-b')!;
    expect(b.state.view).toBe(b.view);
    expect(b.view.capabilities).toEqual(['CHOWN', 'KILL', 'NET_BIND_SERVICE', 'NET_RAW', 'SYS_PTRACE', 'AUDIT_WRITE']);
    expect(log.take().sort()).toEqual([
      'I Registered new sandbox found in root directory: "sb-a"',
      'I Registered new sandbox found in root directory: "sb-b"',
      'I Registered new sandbox found in root directory: "sb-f"',
      'I Registered new sandbox found in root directory: "sb-g"',
    ]);
  });

  it('does not re-read rejected state files until they change', async () => {
    const { reg, vol, locker, log } = setup();
    await reg.refresh();
    log.take();
    locker.taken.length = 0;
    await reg.refresh();
    expect(locker.taken).toEqual([]); // nothing new, rejected files skipped by stat
    expect(log.take()).toEqual([]);

    vol.writeFileSync(
      f('sb-d_sandbox:sb-d.state'),
      stateJson((d) => {
        d.id = d.sandbox.id = 'sb-d';
        d.sandbox.pid = 11280;
      }),
    );
    const out = await reg.refresh();
    expect(out.added).toEqual(['sb-d']);
    expect(log.take()).toEqual([
      'I State file for sandbox "sb-d" has changed since we last looked at it; will try to reload it.',
      'I Registered new sandbox found in root directory: "sb-d"',
    ]);
    expect(reg.totalRegistered).toBe(5);
  });

  it('%RUNTIME_ROOT% addresses match a server on that root', async () => {
    const files = { [f('sb-c_sandbox:sb-c.state')]: fixture('state-file-runtime-root-placeholder.json') };
    const { fs } = memDiscoveryFs(files);
    const reg = new SandboxRegistry({
      root: ROOT,
      serverAddress: '%RUNTIME_ROOT%/metrics.sock',
      fs,
      locker: new FakeLocker(),
      isAlive: () => true,
      prepare: (v) => v.id,
    });
    await reg.refresh();
    expect(reg.served().map((s) => s.state)).toEqual(['sb-c']);
  });
});

describe('SandboxRegistry locks', () => {
  it('retries a new sandbox whose state file is locked, without caching or counting it', async () => {
    const { reg, locker, log } = setup();
    locker.busy.add(f('sb-a_sandbox:sb-a.lock'));
    const first = await reg.refresh();
    expect(first.busy).toEqual(['sb-a']);
    expect(ids(reg)).not.toContain('sb-a');
    expect(reg.totalRegistered).toBe(3);
    expect(log.take().some((l) => l.includes('sb-a'))).toBe(false);
    await reg.refresh();
    expect(reg.totalRegistered).toBe(3);
    locker.busy.clear();
    const third = await reg.refresh();
    expect(third.added).toEqual(['sb-a']);
    expect(reg.totalRegistered).toBe(4);
  });

  it('retries when only a subcontainer file is locked', async () => {
    const { reg, locker } = setup();
    locker.busy.add(f('sb-b-c2_sandbox:sb-b.lock'));
    expect((await reg.refresh()).busy).toEqual(['sb-b']);
    locker.busy.clear();
    expect((await reg.refresh()).added).toEqual(['sb-b']);
  });

  it('keeps a served sandbox when a transient lock hits its reload', async () => {
    const { reg, vol, locker } = setup();
    await reg.refresh();
    const before = reg.get('sb-f')!;
    vol.writeFileSync(
      f('sb-f_sandbox:sb-f.state'),
      stateJson((d) => {
        d.id = d.sandbox.id = 'sb-f';
        d.sandbox.pid = 15044;
        d.createdAt = '2026-11-27T22:46:53.136440508Z';
        d.status = 'running'; // `runsc start` rewrote it
      }),
    );
    locker.busy.add(f('sb-f_sandbox:sb-f.lock'));
    const out = await reg.refresh();
    expect(out.busy).toEqual(['sb-f']);
    expect(reg.get('sb-f')).toBe(before);
    locker.busy.clear();
    await reg.refresh();
    const after = reg.get('sb-f')!;
    expect(after.view.rootState.status).toBe('running');
    expect(after.state).toBe(before.state); // same iteration: verifier state kept
    expect(before.state.released).toBe(false);
  });
});

describe('SandboxRegistry removal', () => {
  it('drops a sandbox whose files went away', async () => {
    const { reg, vol, log } = setup();
    await reg.refresh();
    log.take();
    const a = reg.get('sb-a')!;
    vol.unlinkSync(f('sb-a_sandbox:sb-a.state'));
    const out = await reg.refresh();
    expect(out.removed).toEqual(['sb-a']);
    expect(a.state.released).toBe(true);
    expect(log.take()).toEqual(['W Sandbox sb-a no longer exists but did not explicitly unregister. Removing it.']);
  });

  it('drops a sandbox whose process died', async () => {
    const { reg, live, log } = setup();
    await reg.refresh();
    log.take();
    live.delete(16081);
    expect((await reg.refresh()).removed).toEqual(['sb-g']);
    expect(log.take()).toEqual([
      'I Sandbox sb-g is no longer running, deleting it.',
      'W Sandbox "sb-g" has state file in state Running, yet it isn\'t actually running. Ignoring it.',
    ]);
    // Dead and unchanged: not re-read, not re-logged.
    await reg.refresh();
    expect(log.take()).toEqual([]);
  });

  // For a caller whose inotify watch saw no change since a pass: the pass's liveness step
  // alone, with no listing and no stat (a file change is the caller's to notice).
  it('checkLiveness() drops a sandbox whose process died, without listing or stat', async () => {
    const { fs: inner } = memDiscoveryFs(realRoot());
    const calls = { readdir: 0, stat: 0, readFile: 0 };
    /** When set, the next listing waits for `gate` and says it has begun. */
    let gate: { begun: () => void; open: Promise<void> } | undefined;
    const fs: DiscoveryFs = {
      readdir: async (p) => {
        calls.readdir++;
        const g = gate;
        gate = undefined;
        if (g !== undefined) {
          g.begun();
          await g.open;
        }
        return inner.readdir(p);
      },
      stat: (p) => {
        calls.stat++;
        return inner.stat(p);
      },
      readFile: (p) => {
        calls.readFile++;
        return inner.readFile(p);
      },
    };
    const live = new Set([10186, 10760, 11238, 11280, 12074, 15044, 16081]);
    const log = new RecordingLogger();
    const released: string[] = [];
    const reg = new SandboxRegistry({
      root: ROOT,
      serverAddress: ADDR,
      fs,
      locker: new FakeLocker(),
      log,
      isAlive: (pid) => live.has(pid),
      prepare: (v) => v.id,
      release: (id) => released.push(id),
    });
    await reg.refresh();
    const before = ids(reg as unknown as SandboxRegistry<Prepared>);
    expect(before).toContain('sb-g');
    log.take();
    Object.assign(calls, { readdir: 0, stat: 0, readFile: 0 });
    expect(reg.checkLiveness()).toMatchObject({ removed: [], busy: [] });
    const steady = reg.served();
    live.delete(16081);
    expect(reg.checkLiveness()!.removed).toEqual(['sb-g']);
    expect(calls).toEqual({ readdir: 0, stat: 0, readFile: 0 });
    expect(log.take()).toEqual(['I Sandbox sb-g is no longer running, deleting it.']);
    expect(released).toEqual(['sb-g']);
    expect(reg.served().map((e) => e.id)).toEqual(before.filter((id) => id !== 'sb-g'));
    expect(steady.map((e) => e.id)).toEqual(before); // the old snapshot is not mutated
    // While a pass runs it owns the state: nothing is done.
    let open!: () => void;
    const begun = new Promise<void>((b) => (gate = { begun: b, open: new Promise<void>((o) => (open = o)) }));
    const pass = reg.refresh();
    await begun;
    expect(reg.checkLiveness()).toBeUndefined();
    open();
    await pass;
    expect(reg.checkLiveness()).toBeDefined();
  });

  it('drops a served sandbox whose changed state file no longer loads', async () => {
    const { reg, vol, log } = setup();
    await reg.refresh();
    log.take();
    vol.writeFileSync(
      f('sb-a_sandbox:sb-a.state'),
      stateJson((d) => (d.sandbox.metricServerAddress = '/elsewhere.sock')),
    );
    expect((await reg.refresh()).removed).toEqual(['sb-a']);
    expect(log.take()[0]).toBe(
      'W Sandbox sb-a cannot be loaded, deleting it: sandbox requested instrumentation by a metric server running at a different address (sandbox wants "/elsewhere.sock", this metric server serves "BASE/metrics.sock")',
    );
  });

  it('replaces a sandbox whose id was reused by a new sandbox (new iteration, fresh state)', async () => {
    const { reg, vol } = setup();
    await reg.refresh();
    const old = reg.get('sb-a')!;
    vol.writeFileSync(
      f('sb-a_sandbox:sb-a.state'),
      stateJson((d) => (d.createdAt = '2026-11-28T00:00:00Z')),
    );
    const out = await reg.refresh();
    expect(out.removed).toEqual(['sb-a']);
    expect(out.added).toEqual(['sb-a']);
    const now = reg.get('sb-a')!;
    expect(now.state).not.toBe(old.state);
    expect(old.state.released).toBe(true);
    expect(now.view.labels.iteration).not.toBe(old.view.labels.iteration);
    expect(reg.totalRegistered).toBe(5);
  });
});

describe('SandboxRegistry with a synchronous stat (as on node:fs)', () => {
  it('reloads a rewritten state file, replaces a reused id and drops a removed one', async () => {
    const { reg, vol, fs } = setup(realRoot(), { syncStat: true });
    expect(fs.statSync).toBeDefined();
    await reg.refresh();
    const a = reg.get('sb-a')!;
    const f0 = reg.get('sb-f')!;
    vol.writeFileSync(
      f('sb-f_sandbox:sb-f.state'),
      stateJson((d) => {
        d.id = d.sandbox.id = 'sb-f';
        d.sandbox.pid = 15044;
        d.createdAt = '2026-11-27T22:46:53.136440508Z';
        d.status = 'running';
      }),
    );
    vol.writeFileSync(
      f('sb-a_sandbox:sb-a.state'),
      stateJson((d) => (d.createdAt = '2026-11-28T00:00:00Z')),
    );
    vol.unlinkSync(f('sb-g_sandbox:sb-g.state'));
    const out = await reg.refresh();
    expect([...out.removed].sort()).toEqual(['sb-a', 'sb-g']);
    expect(out.added).toEqual(['sb-a']);
    expect(reg.get('sb-a')!.state).not.toBe(a.state);
    expect(reg.get('sb-f')!.view.rootState.status).toBe('running');
    expect(reg.get('sb-f')!.state).toBe(f0.state);
  });
});

describe('SandboxRegistry rejections', () => {
  it('a dead process in a created sandbox is not served, not counted and not re-read', async () => {
    const files = {
      [f('p_sandbox:p.state')]: stateJson((d) => {
        d.id = d.sandbox.id = 'p';
        d.sandbox.pid = 0;
        d.status = 'created';
      }),
    };
    const { reg, locker, log } = setup(files);
    for (let i = 0; i < 3; i++) await reg.refresh();
    expect(ids(reg)).toEqual([]);
    expect(reg.totalRegistered).toBe(0);
    expect(locker.taken).toHaveLength(1);
    expect(log.take()).toEqual([
      'I Sandbox "p" has state file in state created, but its process (pid 0) is not running. Ignoring it.',
    ]);
  });

  it('a failing prepare (invalid registration) is a load error: logged, counted, remembered', async () => {
    const { reg, log, locker } = setup(realRoot(), {
      prepare: (view) => {
        if (view.id === 'sb-g') throw new Error('metric "x" has an invalid name');
        return { view, released: false };
      },
    });
    await reg.refresh();
    expect(ids(reg)).toEqual(['sb-a', 'sb-b', 'sb-f']);
    expect(reg.totalRegistered).toBe(4);
    expect(log.take()).toContain('W Sandbox "sb-g" cannot be loaded, ignoring it: metric "x" has an invalid name');
    locker.taken.length = 0;
    await reg.refresh();
    expect(locker.taken).toEqual([]);
  });

  it('a malformed root state file is warned about once per version', async () => {
    const { reg, log, vol } = setup({ [f('x_sandbox:x.state')]: '{"id": "x", ' });
    await reg.refresh();
    await reg.refresh();
    const lines = log.take();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^W Cannot load state file for sandbox "x": state file x_sandbox:x.state: \$: invalid JSON/,
    );
    vol.writeFileSync(f('x_sandbox:x.state'), '[]');
    await reg.refresh();
    expect(log.take()).toHaveLength(2); // "changed" + the new error
  });

  it('a listed id without a root state file warns about the stat', async () => {
    const { reg, log } = setup({ [f('c_sandbox:s.state')]: fixture('state-file-subcontainer.json') });
    await reg.refresh();
    expect(log.take()[0]).toMatch(/^W Failed to stat\(\) container state file for sandbox "s": /);
  });
});

describe('SandboxRegistry passes', () => {
  it('reports a vanished root distinctly and keeps what it serves', async () => {
    const { reg, vol, log } = setup();
    await reg.refresh();
    log.take();
    vol.rmSync(ROOT, { recursive: true });
    const out = await reg.refresh();
    expect(out.rootListed).toBe(false);
    expect(out.rootError?.root).toBe(ROOT);
    expect(ids(reg)).toEqual(['sb-a', 'sb-b', 'sb-f', 'sb-g']);
    expect(log.take()[0]).toMatch(
      /^W Cannot list containers in root directory \/root, it has likely gone away: .*ENOENT.*\.$/,
    );
  });

  it('serialises refreshes: a refresh requested while one runs joins it', async () => {
    const { fs: inner } = memDiscoveryFs(realRoot());
    let listings = 0;
    let releaseListing!: () => void;
    const gate = new Promise<void>((r) => (releaseListing = r));
    const fs: DiscoveryFs = {
      readdir: async (p) => {
        listings++;
        await gate;
        return inner.readdir(p);
      },
      stat: (p) => inner.stat(p),
      readFile: (p) => inner.readFile(p),
    };
    const reg = new SandboxRegistry({
      root: ROOT,
      serverAddress: ADDR,
      fs,
      locker: new FakeLocker(),
      isAlive: () => true,
      prepare: (v) => v.id,
    });
    const a = reg.refresh();
    const b = reg.refresh();
    expect(b).toBe(a);
    releaseListing();
    await a;
    expect(reg.served()).toHaveLength(4);
    expect(listings).toBeGreaterThanOrEqual(1);
    const before = listings;
    await reg.refresh(); // a new pass once the first finished
    expect(listings).toBeGreaterThan(before);
  });

  it('refreshFresh() runs a pass that starts after the call: a file added while a pass lists is found', async () => {
    const { fs: inner, vol } = memDiscoveryFs(realRoot());
    vol.unlinkSync(f('sb-a_sandbox:sb-a.state'));
    let listings = 0;
    let releaseListing!: () => void;
    const gate = new Promise<void>((r) => (releaseListing = r));
    const fs: DiscoveryFs = {
      readdir: async (p) => {
        listings++;
        const names = await inner.readdir(p); // listed before the gate: the new file is not in it
        await gate;
        return names;
      },
      stat: (p) => inner.stat(p),
      readFile: (p) => inner.readFile(p),
    };
    const reg = new SandboxRegistry({
      root: ROOT,
      serverAddress: ADDR,
      fs,
      locker: new FakeLocker(),
      isAlive: () => true,
      prepare: (v) => v.id,
    });
    const old = reg.refresh();
    await Promise.resolve();
    vol.writeFileSync(f('sb-a_sandbox:sb-a.state'), fixture('state-file.json'));
    const joined = reg.refresh();
    const fresh = reg.refreshFresh();
    expect(joined).toBe(old);
    expect(reg.refreshFresh()).toBe(fresh); // one queued pass for every caller
    releaseListing();
    expect((await old).added).not.toContain('sb-a');
    expect((await fresh).added).toEqual(['sb-a']);
    expect(listings).toBe(2);
    // With no pass running it is a plain refresh.
    await reg.refreshFresh();
    expect(listings).toBe(3);
  });

  it('lists the root once per pass; a steady pass reads no file and takes no lock', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 150; i++) {
      const id = `s${i}`;
      files[f(`${id}_sandbox:${id}.state`)] = stateJson((d) => {
        d.id = d.sandbox.id = id;
        if (i % 3 === 0) d.sandbox.metricServerAddress = '/other.sock'; // rejected, stat-cached
      });
      files[f(`c${i}_sandbox:${id}.state`)] = fixture('state-file-subcontainer.json');
    }
    const { fs: inner } = memDiscoveryFs(files);
    const calls = { readdir: 0, stat: 0, readFile: 0 };
    const fs: DiscoveryFs = {
      readdir: (p) => {
        calls.readdir++;
        return inner.readdir(p);
      },
      stat: (p) => {
        calls.stat++;
        return inner.stat(p);
      },
      readFile: (p) => {
        calls.readFile++;
        return inner.readFile(p);
      },
    };
    const locker = new FakeLocker();
    const reg = new SandboxRegistry({
      root: ROOT,
      serverAddress: ADDR,
      fs,
      locker,
      isAlive: () => true,
      prepare: (v) => v.id,
    });
    const started = performance.now();
    await reg.refresh();
    expect(performance.now() - started).toBeLessThan(20_000); // ~0.2 s here; generous for a shared box
    expect(reg.served()).toHaveLength(100);
    expect(calls.readdir).toBe(1);
    expect(reg.get('s1')!.view.containers.map((c) => c.id)).toEqual(['sb-b-c2', 's1']);
    Object.assign(calls, { readdir: 0, stat: 0, readFile: 0 });
    locker.taken.length = 0;
    await reg.refresh();
    expect(calls).toEqual({ readdir: 1, stat: 150, readFile: 0 });
    expect(locker.taken).toEqual([]);
  });

  it('served() is a snapshot that a later pass does not mutate', async () => {
    const { reg, vol } = setup();
    await reg.refresh();
    const snap = reg.served();
    vol.unlinkSync(f('sb-a_sandbox:sb-a.state'));
    await reg.refresh();
    expect(snap.map((s) => s.id)).toEqual(['sb-a', 'sb-b', 'sb-f', 'sb-g']);
    expect(Object.isFrozen(snap)).toBe(true);
    expect(ids(reg)).toEqual(['sb-b', 'sb-f', 'sb-g']);
  });

  it('close() releases everything and later refreshes are skipped', async () => {
    const { reg } = setup();
    await reg.refresh();
    const states = reg.served().map((s) => s.state);
    await reg.close();
    expect(states.every((s) => s.released)).toBe(true);
    expect(reg.served()).toEqual([]);
    expect(await reg.refresh()).toMatchObject({ skipped: true, added: [] });
  });
});
