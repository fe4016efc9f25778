// `/runsc-metrics/profile-cpu` and `/runsc-metrics/profile-heap` (only with --allow-profiling).

import type { Handler } from '../http.js';
import { sendError } from '../http.js';
import { cpuProfileDurationMs } from '../profile.js';
import type { AppState } from '../state.js';
import { firstValue, parseQuery } from '../url.js';

const SHUTTING_DOWN = 'server is shutting down already';

export function profileCpuHandler(app: AppState): Handler {
  return async (_req, res, info) => {
    if (app.isShuttingDown()) return sendError(res, 503, SHUTTING_DOWN);
    const durationMs = cpuProfileDurationMs(firstValue(parseQuery(info.rawQuery), 'seconds'));
    if (app.profiler.cpuBusy) {
      app.log.warn('CPU profile requested while another one is running; answering empty');
      res.writeHead(200, { 'Content-Length': 0 });
      res.end();
      return;
    }
    // As Go: 200 goes out at once, the profile follows when done.
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Content-Disposition': 'attachment; filename="runsc-metric-server.cpuprofile"',
    });
    res.flushHeaders();
    const { json, interrupted } = await app.profiler.cpuProfile(durationMs, info.signal);
    if (interrupted) app.log.warn('Profiling CPU interrupted.');
    else app.log.info('Profiling CPU done.', { durationMs });
    res.end(json);
  };
}

export function profileHeapHandler(app: AppState): Handler {
  return (_req, res, info) => {
    if (app.isShuttingDown()) return sendError(res, 503, SHUTTING_DOWN);
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Content-Disposition': 'attachment; filename="runsc-metric-server.heapsnapshot"',
    });
    const snap = app.profiler.heapSnapshot();
    info.signal.addEventListener('abort', () => snap.destroy(), { once: true });
    snap.on('error', () => res.destroy());
    snap.pipe(res);
  };
}
