// Start-up (spec §1.4 order), the 20 s background loop, and graceful shutdown.
// Signals are the CLI's business (cli.ts); this module only offers close().

import { promises as fsp, unlinkSync } from 'node:fs';
import type { Server } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { ScrapeBackend } from './backend.js';
import { type Bound, bindServer, errText } from './bind.js';
import { ConfigError, type ResolvedConfig, resolveConfig, type ServerConfig } from './config.js';
import { createHttpServer, createRequestListener, InFlight } from './http.js';
import { createLogger, type Logger } from './log.js';
import { createProfiler } from './profile.js';
import { buildRouter } from './routes/router.js';
import { Scraper } from './scrape.js';
import type { AppState } from './state.js';
import { RootWatcher, rediscoverOf } from './watch.js';
import { loadWebConfig, type TlsSettings, type WebConfig } from './web-config.js';
import { clientCertRejection, createRequestGate, httpsOptions } from './web-security.js';

export interface MetricServerHandle {
  /** `host:port` (real port) or the unix socket path. */
  readonly address: string;
  /** The TCP port bound, undefined on a unix socket. */
  readonly port: number | undefined;
  /** The (substituted) --metric-server string: the identity sandboxes must name. */
  readonly identity: string;
  /** Graceful shutdown: stop accepting, let in-flight requests finish (bounded), remove socket and pid file. */
  close(reason?: string): Promise<void>;
  /** Immediate exit path (second signal): removes socket and pid file synchronously, drops connections. */
  forceClose(): void;
  /** Resolves with the reason once the server has shut down, whoever started it. */
  readonly closed: Promise<string>;
}

/** Creates the scrape backend for a config; production passes core's registry (see start.ts). */
export type BackendFactory = (config: ResolvedConfig, log: Logger) => ScrapeBackend;

export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

/**
 * Starts a metric server in runsc's order (spec §1.4): check the root, read the web config, start
 * the backend, bind, write the pid file, arm the loop and the watch, and only then serve.
 */
export async function startServer(input: ServerConfig, createBackend: BackendFactory): Promise<MetricServerHandle> {
  const log = input.logger ?? createLogger();
  const config = resolveConfig(input);
  await checkRoot(config, log);
  const web = readWebConfig(config, log);
  const startTimeSeconds = Date.now() / 1000;
  if (config.address !== input.metricServer) {
    log.info('Replaced %RUNTIME_ROOT% in the metric server address', { address: config.address });
  }
  const { backend, watcher } = startBackend(config, log, createBackend);
  // Set once by shutdown (or forceClose); read by handlers and the loop.
  const status = { shuttingDown: false };
  const app = createApp(config, log, backend, watcher, startTimeSeconds, status);
  const inFlight = new InFlight();
  const { server, openGate } = createGatedServer(app, web, inFlight);
  const bound = await bindOrRelease(server, config.address, backend, log);
  const files = ownedFiles(bound, config.pidFile, log);
  // The loop's first pass comes after start-up, so `shutdown` exists by the time it can be called.
  const loop = discoveryLoop(config, backend, watcher, log, status, () => void shutdown('root directory is gone'));
  const { shutdown, forceClose, closed } = stopping({
    config,
    log,
    status,
    backend,
    watcher,
    loop,
    files,
    server,
    inFlight,
  });

  try {
    await files.writePid();
  } catch (err) {
    await shutdown('start-up failed');
    throw new StartupError(`cannot write PID to file ${JSON.stringify(config.pidFile)}: ${errText(err)}`);
  }
  loop.start();
  await watcher?.ensure();
  openGate();
  log.info('Server serving', { address: bound.display, root: config.root, pid: process.pid });

  return {
    address: bound.display,
    port: bound.port,
    identity: config.address,
    close: (reason = 'closed by caller') => shutdown(reason),
    forceClose,
    closed,
  };
}

/** --web-config-file: read once, fully validated before binding (no reload). */
function readWebConfig(config: ResolvedConfig, log: Logger): WebConfig | undefined {
  const web = config.webConfigFile === undefined ? undefined : loadWebConfig(config.webConfigFile);
  if (web !== undefined) {
    log.info('Loaded web config', {
      file: web.file,
      tls: web.tls !== undefined,
      basicAuthUsers: web.basicAuthUsers.size,
      headers: Object.keys(web.headers).join(','),
    });
  }
  return web;
}

/** The backend and the root watch, with the first discovery pass started in the background. */
function startBackend(
  config: ResolvedConfig,
  log: Logger,
  createBackend: BackendFactory,
): { backend: ScrapeBackend; watcher: RootWatcher | undefined } {
  const backend = createBackend(config, log);
  // Instant discovery (inotify on the root, armed just before serving); the loop stays the fallback.
  const watcher = config.instantDiscovery
    ? new RootWatcher({ root: config.root, debounceMs: config.watchDebounceMs, log, rediscover: rediscoverOf(backend) })
    : undefined;
  if (watcher !== undefined) backend.useRootChanges?.(watcher);
  // Load the running sandboxes now, in the background, rather than in the first scrape:
  // after a rolling update that scrape comes at once, and Prometheus gives it 10 s. The
  // pass yields to the event loop every few ms, and a scrape arriving meanwhile waits for
  // it and sees every sandbox it loaded (refresh never rejects).
  void backend.refresh();
  return { backend, watcher };
}

/** What route handlers see: the scraper over the backend, the profiler, the shutdown flag. */
function createApp(
  config: ResolvedConfig,
  log: Logger,
  backend: ScrapeBackend,
  watcher: RootWatcher | undefined,
  startTimeSeconds: number,
  status: { readonly shuttingDown: boolean },
): AppState {
  const scraper = new Scraper(backend, {
    root: config.root,
    exporterPrefix: config.exporterPrefix,
    perSandboxTimeoutMs: config.perSandboxTimeoutMs,
    scrapeConcurrency: config.scrapeConcurrency,
    scrapeDeadlineMs: config.scrapeDeadlineMs,
    startTimeSeconds,
    resourceMetrics: config.resourceMetrics,
    log,
  });
  return {
    config,
    log,
    pid: process.pid,
    scraper,
    profiler: createProfiler(),
    isShuttingDown: () => status.shuttingDown,
    watcher,
  };
}

/**
 * The HTTP(S) server with its routes, and the start-up gate in front of them. Node accepts
 * connections as soon as it binds; Go serves only after the socket is chmodded and the pid
 * file written. Requests that arrive in between wait on the gate (opened once, just before
 * "Server serving"), so a client that saw an answer can rely on the pid file and the socket mode.
 */
function createGatedServer(
  app: AppState,
  web: WebConfig | undefined,
  inFlight: InFlight,
): { server: Server; openGate: () => void } {
  const { config, log } = app;
  let openGate!: () => void;
  const gate = new Promise<void>((r) => (openGate = r));
  let gateOpen = false;
  const webGate = web === undefined ? undefined : createRequestGate(web, { log }).gate;
  const handle = createRequestListener({
    log,
    route: buildRouter(app),
    inFlight,
    ...(webGate ? { gate: webGate } : {}),
  });
  const server = createHttpServer(
    (req, res) => {
      if (gateOpen) handle(req, res);
      else void gate.then(() => handle(req, res));
    },
    config.httpLimits,
    web?.tls ? httpsOptions(web.tls) : undefined,
  );
  if (web?.tls) refuseByClientCertPolicy(server, web.tls, log);
  return {
    server,
    openGate: () => {
      gateOpen = true;
      openGate();
    },
  };
}

/** Closes every TLS connection whose client certificate the web config's policy refuses. */
function refuseByClientCertPolicy(server: Server, tls: TlsSettings, log: Logger): void {
  server.on('secureConnection', (socket: TLSSocket) => {
    const why = clientCertRejection(tls, socket);
    if (why !== undefined) {
      log.info('TLS connection refused by the client certificate policy', {
        policy: tls.clientAuthType,
        reason: why,
      });
      socket.destroy();
    }
  });
}

/** Binds the server; when that fails, releases the backend started before it, then rethrows. */
async function bindOrRelease(server: Server, address: string, backend: ScrapeBackend, log: Logger): Promise<Bound> {
  try {
    return await bindServer(server, address, log);
  } catch (e) {
    backend.stop();
    await backend.close?.();
    throw e;
  }
}

interface OwnedFiles {
  /** Writes the pid file (when configured); throws when it cannot. */
  writePid(): Promise<void>;
  /** Removes the socket file and the pid file, each only if ours. Synchronous: the forced exit uses it too. */
  remove(): void;
}

/** The files the server owns: its unix socket (bind.ts knows whether it is ours) and its pid file. */
function ownedFiles(bound: Bound, pidFile: string | undefined, log: Logger): OwnedFiles {
  // Whether the pid file is ours to remove; set after writing it, cleared by remove().
  let pidWritten = false;
  return {
    writePid: async () => {
      if (pidFile === undefined) return;
      // Written to a temporary name and renamed, so a reader never sees an empty file.
      const tmp = `${pidFile}.${process.pid}.tmp`;
      await fsp.writeFile(tmp, String(process.pid), { mode: 0o644 });
      await fsp.rename(tmp, pidFile).catch(async (err: unknown) => {
        await fsp.unlink(tmp).catch(() => {});
        throw err;
      });
      pidWritten = true;
      log.info('Wrote PID to file', { pid: process.pid, path: pidFile });
    },
    remove: () => {
      bound.removeSocketFile();
      if (pidFile !== undefined && pidWritten) {
        pidWritten = false;
        try {
          unlinkSync(pidFile);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
            log.warn('Cannot remove PID file', { path: pidFile, error: errText(err) });
        }
      }
    },
  };
}

interface DiscoveryLoop {
  /** Arms the timer for the next pass. */
  start(): void;
  /** Disarms it (a pass already running sees the shutdown flag and does not re-arm). */
  stop(): void;
}

/** The background discovery loop: owns one timer, re-armed after each pass completes (passes never overlap). */
function discoveryLoop(
  config: ResolvedConfig,
  backend: ScrapeBackend,
  watcher: RootWatcher | undefined,
  log: Logger,
  status: { readonly shuttingDown: boolean },
  onRootGone: () => void,
): DiscoveryLoop {
  let timer: NodeJS.Timeout | undefined;
  const pass = async (): Promise<void> => {
    timer = undefined;
    if (status.shuttingDown) return;
    try {
      const rootError = await readRoot(config.root);
      if (rootError !== undefined && !config.allowUnknownRoot) {
        log.warn('Cannot list sandboxes in root directory, it has likely gone away. Server shutting down.', {
          root: config.root,
          error: rootError,
        });
        onRootGone();
        return;
      }
      await backend.refresh();
      // Re-arms a watch lost to an error or a replaced root directory.
      await watcher?.ensure();
    } catch (err) {
      // A bug in a pass must not stop the loop (or the process): log it and try again next tick.
      log.error('background discovery pass failed', { error: errText(err) });
    }
    if (!status.shuttingDown) start();
  };
  const start = (): void => {
    timer = setTimeout(() => void pass(), config.verifyLoopIntervalMs);
  };
  return {
    start,
    stop: () => {
      if (timer) clearTimeout(timer);
    },
  };
}

interface ShutdownParts {
  readonly config: ResolvedConfig;
  readonly log: Logger;
  readonly status: { shuttingDown: boolean };
  readonly backend: ScrapeBackend;
  readonly watcher: RootWatcher | undefined;
  readonly loop: DiscoveryLoop;
  readonly files: OwnedFiles;
  readonly server: Server;
  readonly inFlight: InFlight;
}

interface Stopping {
  /**
   * Graceful shutdown, run once whoever asks first: stop discovery, remove our files, let in-flight
   * requests finish (bounded by the grace), close the server, release the sandboxes.
   */
  shutdown(reason: string): Promise<void>;
  /** The immediate exit (second signal): files removed synchronously, requests and connections cut. */
  forceClose(): void;
  /** Resolves with the first reason once a graceful shutdown is done. */
  readonly closed: Promise<string>;
}

/** How the server stops: the graceful shutdown (once, whoever asks first) and the forced exit. */
function stopping(parts: ShutdownParts): Stopping {
  const { config, log, status, backend, watcher, loop, files, server, inFlight } = parts;
  let resolveClosed!: (reason: string) => void;
  const closed = new Promise<string>((r) => (resolveClosed = r));
  let shutdownPromise: Promise<void> | undefined;
  const shutdown = (reason: string): Promise<void> => {
    shutdownPromise ??= (async () => {
      log.info('Server shutting down.', { reason });
      status.shuttingDown = true;
      backend.stop();
      watcher?.close();
      loop.stop();
      files.remove();
      const serverClosed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      let graceTimer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<'timeout'>(
        (r) => (graceTimer = setTimeout(() => r('timeout'), config.shutdownGraceMs)),
      );
      const drained = await Promise.race([inFlight.idle().then(() => 'idle' as const), graceOver]);
      clearTimeout(graceTimer);
      if (drained === 'timeout') {
        log.warn('In-flight requests did not finish within the shutdown grace; cutting them', {
          requests: inFlight.size,
          graceMs: config.shutdownGraceMs,
        });
        inFlight.abortAll('server shutting down');
      }
      server.closeAllConnections();
      await serverClosed;
      await backend.close?.().catch((err: unknown) => log.warn('Releasing sandboxes failed', { error: errText(err) }));
      log.info('Server has stopped accepting requests.');
      resolveClosed(reason);
    })();
    return shutdownPromise;
  };
  const forceClose = (): void => {
    status.shuttingDown = true;
    watcher?.close();
    files.remove();
    inFlight.abortAll('server exiting now');
    server.closeAllConnections();
    server.close();
  };
  return { shutdown, forceClose, closed };
}

/** Why `root` cannot be listed, or undefined when it can. */
async function readRoot(root: string): Promise<string | undefined> {
  try {
    await fsp.readdir(root);
    return undefined;
  } catch (err) {
    return errText(err);
  }
}

/** Start-up's root check: a root that cannot be listed is a config error, unless --allow-unknown-root. */
async function checkRoot(config: ResolvedConfig, log: Logger): Promise<void> {
  const err = await readRoot(config.root);
  if (err === undefined) return;
  if (config.allowUnknownRoot) {
    log.info('Root directory cannot be listed; continuing because of --allow-unknown-root', {
      root: config.root,
      error: err,
    });
    return;
  }
  throw new ConfigError(
    `invalid root directory ${JSON.stringify(config.root)}: tried to list all entries within it and got: ${err}`,
  );
}
