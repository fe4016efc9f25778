// `/metrics`: filter validation (RE2, metrics filter first, exact 400 bodies),
// the concurrent-scrape cap, the scrape, and the streamed exposition.

import { pipeline } from 'node:stream/promises';
import { constants as zlibConstants, createGzip } from 'node:zlib';
import { ExpositionWriter } from '@org/metricserver-prom-format';
import type { Handler } from '../http.js';
import { sendError } from '../http.js';
import { compileRe2 } from '../filters.js';
import type { AppState } from '../state.js';
import { firstValue, parseQuery } from '../url.js';
import { acceptsGzip, negotiateFormat } from '../negotiate.js';

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
  // Writers keep a reusable buffer but serialise their calls: one per concurrent scrape.
  const idleWriters: ExpositionWriter[] = [];

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
      return sendError(res, 429, `too many concurrent scrapes (limit ${app.config.maxConcurrentScrapes}); retry later`, {
        'Retry-After': '1',
      });
    }
    active++;
    const writer = idleWriters.pop() ?? new ExpositionWriter();
    try {
      const outcome = await app.scraper.scrape({ metricsFilter, metricsMatcher, capabilityMatcher }, info.signal);
      if (info.signal.aborted) return; // the client is gone: nothing to send to
      const gzip = acceptsGzip(req.headers['accept-encoding']);
      const format = app.config.openMetrics ? negotiateFormat(req.headers.accept) : 'prometheus';
      res.writeHead(200, {
        'Content-Type': format === 'openmetrics' ? OPENMETRICS_CONTENT_TYPE : METRICS_CONTENT_TYPE,
        Vary: 'Accept, Accept-Encoding',
        ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
      });
      // gzip: the writer feeds the compressor (its backpressure), the pipeline feeds the response (the client's).
      // Level 1: measured on fake-fleet bodies, 10x smaller for ~1/4 of the CPU of zlib's default
      // level 6 (which only reaches 12x); CPU, not bandwidth, is what a scrape of a big fleet costs us.
      const zip = gzip ? createGzip({ level: zlibConstants.Z_BEST_SPEED }) : undefined;
      const piped = zip ? pipeline(zip, res) : undefined;
      piped?.catch(() => {}); // observed below; a client leaving mid-body also rejects the writer
      let skipped = 0;
      let firstSkip = '';
      try {
        await writer.write(
          zip ?? res,
          {
            commentHeader: outcome.commentHeader,
            format,
            metricsWritten: new Set(),
            onSkip: (s) => {
              if (skipped++ === 0) firstSkip = `${s.metric}: ${s.reason}`;
            },
          },
          outcome.snapshots,
        );
        if (zip) {
          zip.end();
          await piped;
        } else res.end();
      } catch (err) {
        // Headers are out: a cut body is all we can say; the client probably left.
        app.log.warn('metrics response cut short', { error: err instanceof Error ? err.message : String(err) });
        zip?.destroy();
        res.destroy();
      }
      if (skipped > 0) app.log.warn('data points skipped by the writer', { count: skipped, first: firstSkip });
    } finally {
      idleWriters.push(writer);
      active--;
    }
  };
}
