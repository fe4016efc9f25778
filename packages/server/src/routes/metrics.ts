// `/metrics`: filter validation (RE2, metrics filter first, exact 400 bodies),
// the concurrent-scrape cap, the scrape, and its shared rendered body.

import type { ScrapeOutcome } from '../body.js';
import { compileRe2 } from '../filters.js';
import type { Handler } from '../http.js';
import { sendError } from '../http.js';
import { acceptsGzip, negotiateFormat } from '../negotiate.js';
import type { AppState } from '../state.js';
import { firstValue, parseQuery } from '../url.js';

/**
 * Prometheus text format 0.0.4 (Go's sniffing gives `text/plain; charset=utf-8`;
 * the version parameter is what Prometheus itself expects and sends back).
 */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
/** With --openmetrics, negotiated on `Accept` (Prometheus 2.42 offers it first by default). */
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

export const METRICS_FILTER_PARAM = 'runsc-sandbox-metrics-filter';
export const CAPABILITY_FILTER_PARAM = 'runsc-capability-filter';

export function metricsHandler(app: AppState): Handler {
  // Scrapes in progress; only this closure changes it (incremented before the
  // first await, decremented in finally).
  let active = 0;

  return async (req, res, info) => {
    // Go reads r.URL.Query(): malformed pairs are dropped silently.
    const query = parseQuery(info.rawQuery);
    const metricsFilter = firstValue(query, METRICS_FILTER_PARAM);
    const capabilityFilter = firstValue(query, CAPABILITY_FILTER_PARAM);
    const metricsMatcher = metricsFilter === '' ? undefined : compileRe2(metricsFilter);
    if (metricsFilter !== '' && metricsMatcher === undefined) {
      return sendError(res, 400, 'provided metric filter is not a valid regular expression');
    }
    const capabilityMatcher = capabilityFilter === '' ? undefined : compileRe2(capabilityFilter);
    if (capabilityFilter !== '' && capabilityMatcher === undefined) {
      return sendError(res, 400, 'provided capability filter is not a valid regular expression');
    }
    if (active >= app.config.maxConcurrentScrapes) {
      return sendError(
        res,
        429,
        `too many concurrent scrapes (limit ${app.config.maxConcurrentScrapes}); retry later`,
        {
          'Retry-After': '1',
        },
      );
    }
    active++;
    let outcome: ScrapeOutcome | undefined;
    try {
      const format = app.config.openMetrics ? negotiateFormat(req.headers.accept) : 'prometheus';
      outcome = await app.scraper.scrape({ metricsFilter, metricsMatcher, capabilityMatcher, format }, info.signal);
      if (info.signal.aborted) return; // the client is gone: nothing to send to
      const gzip = acceptsGzip(req.headers['accept-encoding']);
      // The body is shared with every request that joined this scrape (and so is its gzip form).
      const pieces = gzip ? await outcome.gzip() : outcome.pieces;
      if (info.signal.aborted) return;
      let length = 0;
      for (const p of pieces) length += p.length;
      res.writeHead(200, {
        'Content-Type': format === 'openmetrics' ? OPENMETRICS_CONTENT_TYPE : METRICS_CONTENT_TYPE,
        Vary: 'Accept, Accept-Encoding',
        'Content-Length': length,
        ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
      });
      // The body is already in memory: queue every piece at once (one writev), then wait for the end.
      await new Promise<void>((resolve) => {
        // A client leaving mid-body: 'close' without the end callback; nothing more to do.
        res.once('close', () => resolve());
        res.cork();
        for (const p of pieces) res.write(p);
        res.end(() => resolve());
      });
    } finally {
      active--;
      // Written, or the client is gone (on 'close' the socket has let go of every piece).
      outcome?.release();
    }
  };
}
