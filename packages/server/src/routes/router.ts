// Exact-path routing (Go ServeMux with method-less patterns: every method is
// accepted on every route; `/` is the catch-all).

import type { Handler } from '../http.js';
import type { AppState } from '../state.js';
import { healthcheckHandler } from './healthcheck.js';
import { indexHandler } from './index-page.js';
import { metricsHandler } from './metrics.js';
import { pidHandler } from './pid.js';
import { profileCpuHandler, profileHeapHandler } from './profile.js';
import { STATUS_PATH, statusJsonHandler } from './status.js';

export function buildRouter(app: AppState): (path: string) => Handler {
  const metrics = metricsHandler(app);
  const routes = new Map<string, Handler>([
    ['/runsc-metrics/healthcheck', healthcheckHandler(app)],
    ['/runsc-metrics/pid', pidHandler(app)],
    ['/metrics', metrics],
    [STATUS_PATH, statusJsonHandler(app)],
  ]);
  if (app.config.allowProfiling) {
    app.log.warn('Profiling HTTP endpoints are exposed; this should only be used for development!');
    routes.set('/runsc-metrics/profile-cpu', profileCpuHandler(app));
    routes.set('/runsc-metrics/profile-heap', profileHeapHandler(app));
  }
  const fallback = indexHandler(metrics, app);
  return (path) => routes.get(path) ?? fallback;
}
