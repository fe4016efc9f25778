// Library API of @org/metricserver-server: start the metric server in-process.

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
export { type StartOptions, startMetricServer } from './start.js';
