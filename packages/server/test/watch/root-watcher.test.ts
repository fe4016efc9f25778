// RootWatcher on a real directory: which names trigger a pass, coalescing,
// passes never overlap, locked files retried, errors and root loss survived.
import { EventEmitter } from 'node:events';
import type { FSWatcher } from 'node:fs';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../src/log.js';
import { RootWatcher } from '../../src/watch.js';
import { tempDir } from '../support/server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

const watchers: RootWatcher[] = [];
afterEach(() => {
  for (const w of watchers.splice(0)) w.close();
});

function setup(
  opts: { busy?: () => number; passMs?: number; watch?: ConstructorParameters<typeof RootWatcher>[0]['watch'] } = {},
) {
  const root = join(tempDir('ms-watch-'), 'root');
  mkdirSync(root);
  const log = memoryLogger();
  const calls: number[] = [];
  let running = 0;
  let overlapped = false;
  const w = new RootWatcher({
    root,
    debounceMs: 50,
    log,
    rediscover: async () => {
      if (running++ > 0) overlapped = true;
      calls.push(Date.now());
      await sleep(opts.passMs ?? 5);
      running--;
      return { busy: opts.busy?.() ?? 0 };
    },
    ...(opts.watch ? { watch: opts.watch } : {}),
  });
  watchers.push(w);
  return { root, log, w, calls, overlapped: () => overlapped };
}

describe('RootWatcher', () => {
  it('reacts to *.state names only, and coalesces a burst into one pass', async () => {
    const s = setup();
    await s.w.ensure();
    expect(s.w.active).toBe(true);
    await sleep(200);
    expect(s.calls).toHaveLength(0); // arming itself runs no pass (start-up discovers as runsc does)
    writeFileSync(join(s.root, 'first_sandbox:first.state'), '{}');
    await until(() => s.calls.length === 1, 2000, 'the first pass');
    // Lock files, sockets and other names: no pass.
    writeFileSync(join(s.root, 'a_sandbox:a.lock'), '');
    writeFileSync(join(s.root, 'a_sandbox:a.state.tmp'), '');
    const sock = createServer();
    await new Promise<void>((r) => sock.listen(join(s.root, 'runsc-a.sock'), r));
    sock.close();
    await sleep(300);
    expect(s.calls).toHaveLength(1);
    // A burst of 50 state files within the window: one pass (maybe two if the burst straddles it).
    for (let i = 0; i < 50; i++) writeFileSync(join(s.root, `s${i}_sandbox:s${i}.state`), '{}');
    await until(() => s.calls.length >= 2, 2000, 'a pass after the burst');
    await sleep(300);
    expect(s.calls.length).toBeLessThanOrEqual(3);
    // Removal is an event too.
    const before = s.calls.length;
    rmSync(join(s.root, 's3_sandbox:s3.state'));
    await until(() => s.calls.length === before + 1, 2000, 'a pass after a removal');
  });

  it('runs another pass for events that arrive during one, never two at once', async () => {
    const s = setup({ passMs: 200 });
    await s.w.ensure();
    writeFileSync(join(s.root, 'first_sandbox:first.state'), '{}');
    await until(() => s.calls.length === 1, 2000, 'first pass');
    for (let i = 0; i < 5; i++) {
      writeFileSync(join(s.root, `x${i}_sandbox:x${i}.state`), '{}');
      await sleep(120);
    }
    await sleep(600);
    expect(s.overlapped()).toBe(false);
    // Events landed while passes ran: each got a pass that started after it.
    expect(s.calls.length).toBeGreaterThanOrEqual(3);
    const last = s.calls[s.calls.length - 1] as number;
    expect(last).toBeGreaterThan(Date.now() - 2000);
  });

  it('retries with backoff while state files are locked, then stops', async () => {
    let busy = 3;
    const s = setup({ busy: () => (busy-- > 0 ? 1 : 0) });
    await s.w.ensure();
    writeFileSync(join(s.root, 'b_sandbox:b.state'), '{}');
    // 1 + 3 retries (100, 200, 400 ms apart).
    await until(() => s.calls.length === 4, 3000, 'retries of the busy pass');
    await sleep(900);
    expect(s.calls).toHaveLength(4);
    const gaps = s.calls.slice(1).map((t, i) => t - (s.calls[i] as number));
    expect(gaps[0]).toBeGreaterThanOrEqual(90);
    expect(gaps[2]).toBeGreaterThanOrEqual(gaps[0] as number);
  });

  it('a new state file does not wait behind a long busy-retry delay', async () => {
    let busy = 6;
    const s = setup({ busy: () => (busy-- > 0 ? 1 : 0) });
    await s.w.ensure();
    writeFileSync(join(s.root, 'b_sandbox:b.state'), '{}');
    // Passes at ~0, +100, +200, +400 ms; the next retry would wait 800 ms.
    await until(() => s.calls.length === 4, 3000, 'four busy passes');
    const t = Date.now();
    writeFileSync(join(s.root, 'c_sandbox:c.state'), '{}');
    await until(() => s.calls.length === 5, 3000, 'the pass for the new file');
    expect(Date.now() - t).toBeLessThan(500);
  });

  it('gives up retrying a sandbox that stays locked (the loop takes over)', async () => {
    const s = setup({ busy: () => 1 });
    await s.w.ensure();
    writeFileSync(join(s.root, 'b_sandbox:b.state'), '{}');
    await until(() => s.calls.length === 9, 15_000, '8 retries');
    await sleep(2500);
    expect(s.calls).toHaveLength(9);
  }, 20_000);

  it('survives a watcher error: logged once, off until ensure() re-arms it', async () => {
    const fakes: EventEmitter[] = [];
    const s = setup({
      watch: () => {
        const e = Object.assign(new EventEmitter(), { close: () => {} });
        fakes.push(e);
        return e as unknown as FSWatcher;
      },
    });
    await s.w.ensure();
    expect(s.w.active).toBe(true);
    fakes[0]?.emit('error', Object.assign(new Error('inotify queue overflow'), { code: 'EMFILE' }));
    expect(s.w.active).toBe(false);
    const warns = () => s.log.records().filter((r) => r.level === 'warn');
    expect(warns()).toHaveLength(1);
    expect(String(warns()[0]?.error)).toMatch(/watch failed: .*inotify queue overflow/);
    await s.w.ensure();
    expect(s.w.active).toBe(true);
    expect(s.log.records().some((r) => /instant discovery resumed/.test(String(r.msg)))).toBe(true);
  });

  it('a removed root neither throws nor logs more than once; a new root is watched again', async () => {
    const s = setup();
    await s.w.ensure();
    rmSync(s.root, { recursive: true });
    await until(() => !s.w.active, 2000, 'the watch to be dropped');
    await s.w.ensure();
    await s.w.ensure();
    expect(s.log.records().filter((r) => r.level === 'warn')).toHaveLength(1);
    mkdirSync(s.root);
    const before = s.calls.length;
    await s.w.ensure();
    expect(s.w.active).toBe(true);
    // A re-arm catches up with one pass (whatever happened while unwatched).
    await until(() => s.calls.length === before + 1, 2000, 'the catch-up pass');
    writeFileSync(join(s.root, 'n_sandbox:n.state'), '{}');
    await until(() => s.calls.length > before + 1, 2000, 'a pass in the new root');
  });

  // The backend skips listing the root while this count stands still (core-backend.ts).
  it('counts state-file events, overflows and gaps in watching; no count while unwatched', async () => {
    const fakes: (EventEmitter & { listener?: (event: string, file: string | null) => void })[] = [];
    const s = setup({
      watch: (_root, listener) => {
        const e = Object.assign(new EventEmitter(), { close: () => {}, listener });
        fakes.push(e);
        return e as unknown as FSWatcher;
      },
    });
    expect(s.w.changeCount()).toBeUndefined();
    await s.w.ensure();
    const armed = s.w.changeCount()!;
    expect(armed).toBeTypeOf('number');
    const fire = (file: string | null): void => fakes[fakes.length - 1]!.listener!('rename', file);
    fire('a_sandbox:a.lock');
    fire('runsc-a.sock');
    expect(s.w.changeCount()).toBe(armed); // names a pass ignores
    fire('a_sandbox:a.state');
    expect(s.w.changeCount()).toBe(armed + 1);
    fire(null); // queue overflow: anything may have changed
    expect(s.w.changeCount()).toBe(armed + 2);
    fakes[fakes.length - 1]!.emit('error', new Error('inotify queue overflow'));
    expect(s.w.changeCount()).toBeUndefined();
    await s.w.ensure();
    expect(s.w.changeCount()!).toBeGreaterThan(armed + 2); // the gap counts
    s.w.close();
    expect(s.w.changeCount()).toBeUndefined();
  });

  it('does nothing after close()', async () => {
    const s = setup();
    await s.w.ensure();
    writeFileSync(join(s.root, 'first_sandbox:first.state'), '{}');
    await until(() => s.calls.length === 1, 2000, 'first pass');
    s.w.close();
    expect(s.w.active).toBe(false);
    writeFileSync(join(s.root, 'z_sandbox:z.state'), '{}');
    await sleep(300);
    expect(s.calls).toHaveLength(1);
    await s.w.ensure();
    expect(s.w.active).toBe(false);
  });
});
