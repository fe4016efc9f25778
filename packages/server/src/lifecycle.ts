// Start-up (spec §1.4 order), the 20 s background loop, and graceful shutdown.
// Signals are the CLI's business (cli.ts); this module only offers close().

import { promises as fsp, unlinkSync } from 'node:fs';
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
import { loadWebConfig } from './web-config.js';
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

export async function startServer(input: ServerConfig, createBackend: BackendFactory): Promise<MetricServerHandle> {
  const log = input.logger ?? createLogger();
  const config = resolveConfig(input);
  await checkRoot(config, log);
  // --web-config-file: read once, fully validated before binding (no reload).
  const web = config.webConfigFile === undefined ? undefined : loadWebConfig(config.webConfigFile);
  if (web !== undefined) {
    log.info('Loaded web config', {
      file: web.file,
      tls: web.tls !== undefined,
      basicAuthUsers: web.basicAuthUsers.size,
      headers: Object.keys(web.headers).join(','),
    });
  }
  const startTimeSeconds = Date.now() / 1000;
  if (config.address !== input.metricServer) {
    log.info('Replaced %RUNTIME_ROOT% in the metric server address', { address: config.address });
  }
  const backend = createBackend(config, log);
  // Instant discovery (inotify on the root, armed just before serving); the loop below stays the fallback.
  const watcher = config.instantDiscovery
    ? new RootWatcher({ root: config.root, debounceMs: config.watchDebounceMs, log, rediscover: rediscoverOf(backend) })
    : undefined;
  if (watcher !== undefined) backend.useRootChanges?.(watcher);
  // Load the running sandboxes now, in the background, rather than in the first scrape:
  // after a rolling update that scrape comes at once, and Prometheus gives it 10 s. The
  // pass yields to the event loop every few ms, and a scrape arriving meanwhile waits for
  // it and sees every sandbox it loaded (refresh never rejects).
  void backend.refresh();
  // Set once by shutdown(); read by handlers and the loop.
  let shuttingDown = false;
  const scraper = new Scraper(backend, {
    root: config.root,
    exporterPrefix: config.exporterPrefix,
    perSandboxTimeoutMs: config.perSandboxTimeoutMs,
    scrapeConcurrency: config.scrapeConcurrency,
    scrapeDeadlineMs: config.scrapeDeadlineMs,
    startTimeSeconds,
    log,
  });
  const app: AppState = {
    config,
    log,
    pid: process.pid,
    scraper,
    profiler: createProfiler(),
    isShuttingDown: () => shuttingDown,
    watcher,
  };
  const inFlight = new InFlight();
  // Node accepts connections as soon as it binds; Go serves only after the socket is
  // chmodded and the pid file written. Requests that arrive in between wait on this
  // gate (resolved once, just before "Server serving"), so a client that saw an
  // answer can rely on the pid file and the socket mode.
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
  if (web?.tls) {
    const tlsSettings = web.tls;
    server.on('secureConnection', (socket: TLSSocket) => {
      const why = clientCertRejection(tlsSettings, socket);
      if (why !== undefined) {
        log.info('TLS connection refused by the client certificate policy', {
          policy: tlsSettings.clientAuthType,
          reason: why,
        });
        socket.destroy();
      }
    });
  }
  let bound: Bound;
  try {
    bound = await bindServer(server, config.address, log);
  } catch (e) {
    backend.stop();
    await backend.close?.();
    throw e;
  }
  // Whether the pid file is ours to remove; set after writing it, cleared by removeFiles().
  let pidWritten = false;
  const removeFiles = (): void => {
    bound.removeSocketFile();
    if (config.pidFile !== undefined && pidWritten) {
      pidWritten = false;
      try {
        unlinkSync(config.pidFile);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
          log.warn('Cannot remove PID file', { path: config.pidFile, error: errText(err) });
      }
    }
  };

  // The background loop: one timer, re-armed after each pass completes (passes never overlap).
  let loopTimer: NodeJS.Timeout | undefined;
  const loop = async (): Promise<void> => {
    loopTimer = undefined;
    if (shuttingDown) return;
    try {
      const rootError = await readRoot(config.root);
      if (rootError !== undefined && !config.allowUnknownRoot) {
        log.warn('Cannot list sandboxes in root directory, it has likely gone away. Server shutting down.', {
          root: config.root,
          error: rootError,
        });
        void shutdown('root directory is gone');
        return;
      }
      await backend.refresh();
      // Re-arms a watch lost to an error or a replaced root directory.
      await watcher?.ensure();
    } catch (err) {
      // A bug in a pass must not stop the loop (or the process): log it and try again next tick.
      log.error('background discovery pass failed', { error: errText(err) });
    }
    if (!shuttingDown) loopTimer = setTimeout(() => void loop(), config.verifyLoopIntervalMs);
  };

  let resolveClosed!: (reason: string) => void;
  const closed = new Promise<string>((r) => (resolveClosed = r));
  let shutdownPromise: Promise<void> | undefined;
  const shutdown = (reason: string): Promise<void> => {
    shutdownPromise ??= (async () => {
      log.info('Server shutting down.', { reason });
      shuttingDown = true;
      backend.stop();
      watcher?.close();
      if (loopTimer) clearTimeout(loopTimer);
      removeFiles();
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

  if (config.pidFile !== undefined) {
    try {
      // Written to a temporary name and renamed, so a reader never sees an empty file.
      const tmp = `${config.pidFile}.${process.pid}.tmp`;
      await fsp.writeFile(tmp, String(process.pid), { mode: 0o644 });
      await fsp.rename(tmp, config.pidFile).catch(async (err: unknown) => {
        await fsp.unlink(tmp).catch(() => {});
        throw err;
      });
      pidWritten = true;
      log.info('Wrote PID to file', { pid: process.pid, path: config.pidFile });
    } catch (err) {
      await shutdown('start-up failed');
      throw new StartupError(`cannot write PID to file ${JSON.stringify(config.pidFile)}: ${errText(err)}`);
    }
  }
  loopTimer = setTimeout(() => void loop(), config.verifyLoopIntervalMs);
  await watcher?.ensure();
  gateOpen = true;
  openGate();
  log.info('Server serving', { address: bound.display, root: config.root, pid: process.pid });

  return {
    address: bound.display,
    port: bound.port,
    identity: config.address,
    close: (reason = 'closed by caller') => shutdown(reason),
    forceClose: () => {
      shuttingDown = true;
      watcher?.close();
      removeFiles();
      inFlight.abortAll('server exiting now');
      server.closeAllConnections();
      server.close();
    },
    closed,
  };
}

async function readRoot(root: string): Promise<string | undefined> {
  try {
    await fsp.readdir(root);
    return undefined;
  } catch (err) {
    return errText(err);
  }
}

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
