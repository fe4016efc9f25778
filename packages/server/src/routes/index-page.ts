// `/` (catch-all): the index page, the `/metrics%3F...` rewrite, else 404.

import type { Handler } from '../http.js';
import { sendBody, sendError } from '../http.js';

export const INDEX_BODY =
  '<html><head><title>runsc metrics</title></head><body><p>You have reached the runsc metrics server page!</p>' +
  '<p>To see actual metric data, head over to <a href="/metrics">/metrics</a>.</p></body></html>';

const REWRITE_PREFIX = '/metrics?';

export function indexHandler(metrics: Handler): Handler {
  return (req, res, info) => {
    if (info.path === '/') {
      sendBody(res, 200, INDEX_BODY, 'text/html; charset=utf-8');
      return;
    }
    // Prometheus' metrics_path escapes `?` as %3F: the decoded path carries the
    // query, which replaces any real one and is decoded a second time.
    if (info.path.startsWith(REWRITE_PREFIX)) {
      return metrics(req, res, { ...info, path: '/metrics', rawQuery: info.path.slice(REWRITE_PREFIX.length) });
    }
    sendError(res, 404, 'path not found');
  };
}
