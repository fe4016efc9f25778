// Starting a metric server in-process: the library's entry point, and the CLI's
// (its own module so that cli.ts and index.ts need not import each other).

import type { ScrapeBackend } from './backend.js';
import type { ResolvedConfig, ServerConfig } from './config.js';
import { createCoreBackend } from './core-backend.js';
import { type BackendFactory, type MetricServerHandle, startServer } from './lifecycle.js';
import type { Logger } from './log.js';

export interface StartOptions {
  /** Replaces the runsc-side backend (tests pinning timing and order); default: core's registry. */
  readonly backend?: (config: ResolvedConfig, log: Logger) => ScrapeBackend;
}

/** Starts a metric server; rejects with a one-line error (ConfigError, BindError, StartupError). */
export function startMetricServer(config: ServerConfig, options: StartOptions = {}): Promise<MetricServerHandle> {
  const factory: BackendFactory = options.backend ?? createCoreBackend;
  return startServer(config, factory);
}
