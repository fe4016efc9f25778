// What route handlers see of the running server.

import type { ResolvedConfig } from './config.js';
import type { Logger } from './log.js';
import type { Scraper } from './scrape.js';
import type { Profiler } from './profile.js';

export interface AppState {
  readonly config: ResolvedConfig;
  readonly log: Logger;
  readonly pid: number;
  readonly scraper: Scraper;
  readonly profiler: Profiler;
  /** Set once by shutdown; read by handlers (healthcheck, pid, profile answer 503). */
  isShuttingDown(): boolean;
}
