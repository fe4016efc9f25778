// `/` (catch-all): the index page, the `/metrics%3F...` rewrite, else 404.
// The index page is Go's exact bytes, except for clients that ask for HTML
// (browsers send `Accept: text/html`): they get the same page with the status
// table inserted after its paragraphs. curl and scripts keep Go's body.

import type { Handler } from '../http.js';
import { sendBody, sendError } from '../http.js';
import type { AppState } from '../state.js';
import { sendStatusPage } from './status.js';

export const INDEX_BODY =
  '<html><head><title>runsc metrics</title></head><body><p>You have reached the runsc metrics server page!</p>' +
  '<p>To see actual metric data, head over to <a href="/metrics">/metrics</a>.</p></body></html>';

const INDEX_CLOSE = '</body></html>';
/** Go's page up to (excluding) its closing tags: what a browser's status page starts with. */
export const INDEX_PREFIX = INDEX_BODY.slice(0, -INDEX_CLOSE.length);

const REWRITE_PREFIX = '/metrics?';

/** True when the Accept header lists text/html (or text/*) with a non-zero q. */
export function acceptsHtml(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  for (const range of accept.split(',')) {
    const [type = '', ...params] = range.split(';').map((p) => p.trim().toLowerCase());
    if (type !== 'text/html' && type !== 'text/*') continue;
    const q = params.find((p) => p.startsWith('q='));
    if (q === undefined || Number(q.slice(2)) > 0) return true;
  }
  return false;
}

export function indexHandler(metrics: Handler, app?: AppState): Handler {
  return (req, res, info) => {
    if (info.path === '/') {
      // The body depends on Accept: caches must key on it (the body of either variant is unchanged).
      if (app !== undefined) res.setHeader('Vary', 'Accept');
      if (app !== undefined && acceptsHtml(req.headers.accept))
        return sendStatusPage(res, app, INDEX_PREFIX, INDEX_CLOSE);
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
