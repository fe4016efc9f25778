// What route handlers see of the running server.

import type { ResolvedConfig } from './config.js';
import type { Logger } from './log.js';
import type { Profiler } from './profile.js';
import type { Scraper } from './scrape.js';
import type { RootWatcher } from './watch.js';

export interface AppState {
  readonly config: ResolvedConfig;
  readonly log: Logger;
  readonly pid: number;
  readonly scraper: Scraper;
  readonly profiler: Profiler;
  /** Instant discovery's root-directory watch (undefined with --instant-discovery=false). */
  readonly watcher?: RootWatcher | undefined;
  /** Set once by shutdown; read by handlers (healthcheck, pid, profile answer 503). */
  isShuttingDown(): boolean;
}
