// Instant discovery: an inotify watch (fs.watch) on the root directory runs a
// discovery pass shortly after a `*.state` file appears, changes or goes away,
// instead of waiting for the next scrape or the 20 s loop. The loop stays the
// fallback: a watcher that fails is closed (logged once) and re-armed by the
// loop's next pass (ensure()); nothing here can stop the process.

import { type FSWatcher, promises as fsp, watch as fsWatch } from 'node:fs';
import { basename } from 'node:path';
import type { RootChanges, ScrapeBackend } from './backend.js';
import { errText } from './bind.js';
import type { Logger } from './log.js';

export interface RediscoverOutcome {
  /** Sandboxes whose state file was locked (runsc writes it under the lock): retried soon. */
  readonly busy: number;
}

export interface RootWatcherOptions {
  readonly root: string;
  /** Events within this window after the first one cause one pass (a burst of creations). */
  readonly debounceMs: number;
  readonly log: Logger;
  /** One discovery pass that starts no earlier than the call (never joins an older pass). Never rejects. */
  readonly rediscover: () => Promise<RediscoverOutcome>;
  /** Test seam: node's fs.watch. */
  readonly watch?: (root: string, listener: (event: string, file: string | null) => void) => FSWatcher;
}

/** First retry of a pass that found locked state files; doubled per retry up to BUSY_RETRY_MAX_MS. */
const BUSY_RETRY_MIN_MS = 100;
const BUSY_RETRY_MAX_MS = 2000;
/** Retries per burst of busy passes (~9 s in all); after that the 20 s loop takes over. */
const BUSY_RETRIES = 8;

const STATE_SUFFIX = '.state';

/**
 * All mutable state is owned by the event loop turns of this object: the fs
 * watcher's events, the single timer, and the one drain() chain (`draining`)
 * which is the only caller of rediscover().
 */
export class RootWatcher implements RootChanges {
  private watcher: FSWatcher | undefined;
  /** State-file events, queue overflows, losses and re-armings seen: what changeCount() reports. */
  private changes = 0;
  /** dev:ino of the directory being watched; a replaced root needs a new watch. */
  private watchedKey: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** When `timer` fires (Date.now() ms). */
  private timerDue = 0;
  private draining = false;
  /** A relevant event arrived since the last pass started. */
  private dirty = false;
  private busyRetries = 0;
  private busyDelayMs = BUSY_RETRY_MIN_MS;
  /** While true, further failures to arm are not logged again (log once per outage). */
  private failing = false;
  private closed = false;
  /** Set by the first successful arming. */
  private armedBefore = false;
  /** Passes started by the watcher (tests and the status page read it). */
  passes = 0;

  constructor(private readonly opts: RootWatcherOptions) {}

  /** Whether an inotify watch is armed. */
  get active(): boolean {
    return this.watcher !== undefined;
  }

  /**
   * Changes of the root seen (RootChanges); undefined while no watch is armed. Any gap in
   * watching counts as a change, since anything may have happened in it.
   */
  changeCount(): number | undefined {
    return this.watcher === undefined || this.closed ? undefined : this.changes;
  }

  /**
   * Arms the watch if it is not armed or the root directory was replaced. Called at
   * start-up and by every background-loop pass. Never throws.
   */
  async ensure(): Promise<void> {
    if (this.closed) return;
    let key: string;
    try {
      const st = await fsp.stat(this.opts.root);
      key = `${st.dev}:${st.ino}`;
    } catch (err) {
      this.lost(`cannot stat the root directory: ${errText(err)}`);
      return;
    }
    if (this.closed || (this.watcher !== undefined && key === this.watchedKey)) return;
    this.unwatch();
    try {
      const watch = this.opts.watch ?? ((root, l) => fsWatch(root, { persistent: false }, l));
      const w = watch(this.opts.root, (event, file) => this.onEvent(event, file));
      w.on('error', (err) => {
        if (this.watcher === w) this.lost(`watch failed: ${errText(err)}`);
      });
      this.watcher = w;
      this.watchedKey = key;
    } catch (err) {
      this.lost(`cannot watch the root directory: ${errText(err)}`);
      return;
    }
    const rearmed = this.armedBefore;
    this.armedBefore = true;
    this.changes++;
    if (this.failing)
      this.opts.log.info('Watching the root directory again: instant discovery resumed', { root: this.opts.root });
    this.failing = false;
    // After a gap, whatever happened while nothing watched is picked up by one pass. The first
    // arming runs none: start-up discovers as runsc does (first scrape or loop pass).
    if (rearmed) this.schedule(0);
  }

  close(): void {
    this.closed = true;
    this.unwatch();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private onEvent(_event: string, file: string | null): void {
    if (this.closed) return;
    // Only state files matter (their lock files and control sockets come and go with them).
    // A null name (queue overflow) may hide anything.
    if (file?.endsWith(STATE_SUFFIX)) {
      this.changes++;
      this.busyRetries = 0;
      this.schedule(this.opts.debounceMs);
    } else if (file === null) {
      this.changes++;
      this.schedule(this.opts.debounceMs);
    } else if (file === basename(this.opts.root)) {
      // The root itself was removed or moved away: the watch is dead; check now.
      this.changes++;
      void this.ensure();
    }
  }

  /**
   * Arms the one timer unless a drain is running (it re-checks `dirty`) or the timer already
   * fires soon enough (a pending busy retry is pulled in to the debounce delay).
   */
  private schedule(delayMs: number): void {
    this.dirty = true;
    if (this.draining) return;
    if (this.timer !== undefined) {
      if (this.timerDue <= Date.now() + delayMs) return;
      clearTimeout(this.timer);
    }
    this.arm(delayMs);
  }

  private arm(delayMs: number): void {
    this.timerDue = Date.now() + delayMs;
    this.timer = setTimeout(() => void this.drain(), delayMs);
  }

  private async drain(): Promise<void> {
    this.timer = undefined;
    this.draining = true;
    let retryBusy = false;
    try {
      while (this.dirty && !this.closed) {
        this.dirty = false;
        this.passes++;
        const { busy } = await this.opts.rediscover();
        // An event during the pass (dirty again) means a pass right away, not a backoff.
        if (busy > 0 && !this.dirty && this.busyRetries < BUSY_RETRIES) {
          retryBusy = true;
          break;
        }
        this.busyDelayMs = BUSY_RETRY_MIN_MS;
        if (busy === 0) this.busyRetries = 0;
      }
    } catch (err) {
      // rediscover() never rejects by contract; a bug must not kill the watcher silently.
      this.opts.log.error('instant discovery pass failed', { error: errText(err) });
    } finally {
      this.draining = false;
    }
    if (this.closed) return;
    if (retryBusy) {
      // A state file appears while runsc holds its lock, and unlocking makes no inotify event.
      this.busyRetries++;
      const delay = this.busyDelayMs;
      this.busyDelayMs = Math.min(this.busyDelayMs * 2, BUSY_RETRY_MAX_MS);
      this.dirty = true;
      this.arm(delay);
    } else if (this.dirty) {
      this.arm(this.opts.debounceMs);
    }
  }

  private lost(why: string): void {
    this.changes++;
    this.unwatch();
    if (this.failing || this.closed) return;
    this.failing = true;
    this.opts.log.warn(
      'Instant discovery off: root directory not watched; the 20 s loop and scrapes still discover sandboxes',
      {
        root: this.opts.root,
        error: why,
      },
    );
  }

  private unwatch(): void {
    const w = this.watcher;
    this.watcher = undefined;
    this.watchedKey = undefined;
    if (w === undefined) return;
    try {
      w.close();
    } catch {
      // already closed by its own error
    }
  }
}

/** The backend's fresh pass, or (a backend without one) two refreshes: the second cannot be an older pass. */
export function rediscoverOf(backend: ScrapeBackend): () => Promise<RediscoverOutcome> {
  if (backend.rediscover !== undefined) return () => (backend.rediscover as () => Promise<RediscoverOutcome>)();
  return async () => {
    await backend.refresh();
    await backend.refresh();
    return { busy: 0 };
  };
}
