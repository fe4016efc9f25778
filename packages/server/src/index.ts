// Library API of @org/metricserver-server: start the metric server in-process.

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

export { ArgsError, parseArgs } from './args.js';
export type { SandboxMeta, ScrapeBackend, ScrapeTarget } from './backend.js';
export { BindError } from './bind.js';
export { runCli } from './cli.js';
export type { ResolvedConfig, ServerConfig } from './config.js';
export { ConfigError, DEFAULTS, defaultRoot, resolveConfig } from './config.js';
export { helpText } from './flags.js';
export type { BackendFactory, MetricServerHandle } from './lifecycle.js';
export { StartupError } from './lifecycle.js';
export { createLogger, type Logger, type LogSink, memoryLogger, silentLogger } from './log.js';
