// Server configuration: the library's input type, its defaults (with why), and
// the translation from parsed CLI flags. Every rejection is one ConfigError line.

import type { FlagValues } from './args.js';
import type { HttpLimits } from './http.js';
import type { Logger } from './log.js';

export interface ServerConfig {
  /** runsc root directory, used verbatim (not cleaned), as runsc does. */
  readonly root: string;
  /** --metric-server as given; `%RUNTIME_ROOT%` is substituted. */
  readonly metricServer: string;
  readonly exporterPrefix?: string;
  readonly pidFile?: string;
  readonly allowProfiling?: boolean;
  readonly allowUnknownRoot?: boolean;
  readonly perSandboxTimeoutMs?: number;
  readonly scrapeConcurrency?: number;
  readonly maxResponseBytes?: number;
  readonly maxConcurrentScrapes?: number;
  /** exporter-toolkit web config (TLS, basic auth, headers); see web-config.ts. */
  readonly webConfigFile?: string;
  /** Negotiate OpenMetrics on `Accept` (default false: always Prometheus text 0.0.4, as runsc). */
  readonly openMetrics?: boolean;
  /** Serve each container's resource usage (containerManager.Event); default false, as runsc. */
  readonly resourceMetrics?: boolean;
  readonly logger?: Logger;
  /** Watch the root directory (inotify) and discover sandboxes as they come and go (default true). */
  readonly instantDiscovery?: boolean;
  /** Test knob: root-directory events are coalesced for this long before one discovery pass. */
  readonly watchDebounceMs?: number;
  /** Test knobs (not CLI flags): the background loop period and the shutdown grace. */
  readonly verifyLoopIntervalMs?: number;
  readonly shutdownGraceMs?: number;
  readonly scrapeDeadlineMs?: number;
  /** Test knob: transport limits (see http.ts HTTP_LIMITS). */
  readonly httpLimits?: Partial<HttpLimits>;
}

export interface ResolvedConfig {
  readonly root: string;
  /** The address after substitution: also this server's identity for sandbox matching. */
  readonly address: string;
  readonly exporterPrefix: string;
  readonly pidFile: string | undefined;
  readonly allowProfiling: boolean;
  readonly allowUnknownRoot: boolean;
  readonly perSandboxTimeoutMs: number;
  readonly scrapeConcurrency: number;
  readonly maxResponseBytes: number;
  readonly maxConcurrentScrapes: number;
  readonly webConfigFile: string | undefined;
  readonly openMetrics: boolean;
  readonly resourceMetrics: boolean;
  readonly verifyLoopIntervalMs: number;
  readonly instantDiscovery: boolean;
  readonly watchDebounceMs: number;
  readonly shutdownGraceMs: number;
  readonly scrapeDeadlineMs: number;
  readonly httpLimits: Partial<HttpLimits>;
}

export const DEFAULTS = {
  exporterPrefix: 'runsc_',
  /** Go's metricsExportTimeout: the whole scrape. */
  scrapeDeadlineMs: 30_000,
  /**
   * Go's per-sandbox floor. With every sandbox in flight at once a stalled one
   * costs only its own slot, so 8 s caps how long one scrape waits for it while
   * leaving a healthy-but-loaded sandbox plenty of time (real exports take ms).
   */
  perSandboxTimeoutMs: 8_000,
  /**
   * Sockets are cheap in Node: every sandbox of a fleet up to 1024 in flight at once (one
   * deadline for all); bounds fds per scrape.
   */
  scrapeConcurrency: 1024,
  /** A real sandbox's export is tens of KiB; 16 MiB leaves 100x headroom and bounds memory per sandbox. */
  maxResponseBytes: 16 << 20,
  /** Prometheus HA pairs scrape concurrently; 8 covers that with room while bounding work. */
  maxConcurrentScrapes: 8,
  /** Go's verifyLoopInterval. */
  verifyLoopIntervalMs: 20_000,
  /** A burst of sandbox creations (a node starting pods) coalesces into one discovery pass. */
  watchDebounceMs: 75,
  /** In-flight requests get this long to finish after a shutdown signal. */
  shutdownGraceMs: 5_000,
} as const;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export const RUNTIME_ROOT_PLACEHOLDER = '%RUNTIME_ROOT%';

export function defaultRoot(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_RUNTIME_DIR;
  return xdg ? `${xdg}/runsc` : '/var/run/runsc';
}

export function resolveConfig(c: ServerConfig): ResolvedConfig {
  if (c.metricServer === '') {
    throw new ConfigError('config does not specify the metric server address (--metric-server)');
  }
  if (c.metricServer.includes('%ID%')) {
    throw new ConfigError(
      `metric server address contains '%ID%': ${c.metricServer}; this should have been replaced by the parent process`,
    );
  }
  const positive = (name: string, v: number | undefined, def: number, min = 1): number => {
    const n = v ?? def;
    if (!Number.isFinite(n) || n < min || !Number.isInteger(n)) {
      throw new ConfigError(`${name} must be an integer >= ${min}, got ${String(v)}`);
    }
    return n;
  };
  return {
    root: c.root,
    address: c.metricServer.split(RUNTIME_ROOT_PLACEHOLDER).join(c.root),
    exporterPrefix: c.exporterPrefix ?? DEFAULTS.exporterPrefix,
    pidFile: c.pidFile === '' ? undefined : c.pidFile,
    allowProfiling: c.allowProfiling ?? false,
    allowUnknownRoot: c.allowUnknownRoot ?? false,
    perSandboxTimeoutMs: positive('--per-sandbox-timeout (ms)', c.perSandboxTimeoutMs, DEFAULTS.perSandboxTimeoutMs),
    scrapeConcurrency: positive('--scrape-concurrency', c.scrapeConcurrency, DEFAULTS.scrapeConcurrency),
    maxResponseBytes: positive('--max-response-bytes', c.maxResponseBytes, DEFAULTS.maxResponseBytes, 1024),
    maxConcurrentScrapes: positive('--max-concurrent-scrapes', c.maxConcurrentScrapes, DEFAULTS.maxConcurrentScrapes),
    webConfigFile: c.webConfigFile === '' ? undefined : c.webConfigFile,
    openMetrics: c.openMetrics ?? false,
    resourceMetrics: c.resourceMetrics ?? false,
    verifyLoopIntervalMs: positive('verifyLoopIntervalMs', c.verifyLoopIntervalMs, DEFAULTS.verifyLoopIntervalMs),
    instantDiscovery: c.instantDiscovery ?? true,
    watchDebounceMs: positive('watchDebounceMs', c.watchDebounceMs, DEFAULTS.watchDebounceMs, 0),
    shutdownGraceMs: positive('shutdownGraceMs', c.shutdownGraceMs, DEFAULTS.shutdownGraceMs, 0),
    scrapeDeadlineMs: positive('scrapeDeadlineMs', c.scrapeDeadlineMs, DEFAULTS.scrapeDeadlineMs),
    httpLimits: c.httpLimits ?? {},
  };
}

/** Turns parsed CLI flags into a ServerConfig (validation of values happens here, in one place). */
export function configFromFlags(flags: FlagValues, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const str = (name: string): string | undefined => {
    const v = flags.get(name);
    return typeof v === 'string' ? v : undefined;
  };
  const bool = (name: string): boolean => flags.get(name) === true;
  const int = (name: string): number | undefined => {
    const v = str(name);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v))
      throw new ConfigError(`invalid value ${JSON.stringify(v)} for --${name}: want a positive integer`);
    return Number(v);
  };
  const metricServer = str('metric-server') ?? '';
  if (metricServer === '') {
    throw new ConfigError('config does not specify the metric server address (--metric-server); see --help');
  }
  const timeout = str('per-sandbox-timeout');
  return {
    root: str('root') ?? defaultRoot(env),
    metricServer,
    exporterPrefix: str('exporter-prefix') ?? DEFAULTS.exporterPrefix,
    pidFile: str('pid-file'),
    allowProfiling: bool('allow-profiling'),
    allowUnknownRoot: bool('allow-unknown-root'),
    instantDiscovery: flags.get('instant-discovery') !== false,
    perSandboxTimeoutMs: timeout === undefined ? undefined : parseGoDurationMs(timeout, 'per-sandbox-timeout'),
    scrapeConcurrency: int('scrape-concurrency'),
    maxResponseBytes: int('max-response-bytes'),
    maxConcurrentScrapes: int('max-concurrent-scrapes'),
    webConfigFile: str('web-config-file'),
    openMetrics: bool('openmetrics'),
    resourceMetrics: bool('resource-metrics'),
  };
}

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go time.ParseDuration subset (positive), in whole milliseconds (rounded up so 1ns is not 0). */
export function parseGoDurationMs(text: string, flag: string): number {
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let pos = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * (UNIT_MS[m[2] as string] ?? 0);
    pos = re.lastIndex;
  }
  if (text === '' || pos !== text.length) {
    throw new ConfigError(`invalid value ${JSON.stringify(text)} for --${flag}: want a duration such as 8s or 2500ms`);
  }
  return Math.ceil(total);
}
