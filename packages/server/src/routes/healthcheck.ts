// `/runsc-metrics/healthcheck`: shutdown check, then form parse, then the root
// directory compared byte for byte (no normalisation), as runsc's client expects.

import type { IncomingMessage } from 'node:http';
import type { Handler } from '../http.js';
import { sendBody, sendError, TEXT_PLAIN } from '../http.js';
import type { AppState } from '../state.js';
import { parseQuery } from '../url.js';

/** Form bodies larger than this are refused (the form holds one path). */
export const MAX_FORM_BYTES = 64 * 1024;

export const HEALTHY_BODY = 'runsc-metrics:OK';

class FormError extends Error {}

export function healthcheckHandler(app: AppState): Handler {
  return async (req, res, info) => {
    if (app.isShuttingDown()) return sendError(res, 503, 'server is shutting down');
    let root: string | undefined;
    try {
      const query = parseQuery(info.rawQuery);
      if (query.error !== undefined) throw new FormError(query.error);
      if (hasFormBody(req)) {
        const body = parseQuery(await readBody(req, MAX_FORM_BYTES));
        if (body.error !== undefined) throw new FormError(body.error);
        root = body.values.get('root')?.[0];
      }
      root ??= query.values.get('root')?.[0] ?? '';
    } catch (err) {
      if (err instanceof FormError) return sendError(res, 400, err.message);
      throw err;
    }
    if (root !== app.config.root) {
      return sendError(res, 400, `this metric server is configured to serve root directory: ${app.config.root}`);
    }
    sendBody(res, 200, HEALTHY_BODY, TEXT_PLAIN);
  };
}

function hasFormBody(req: IncomingMessage): boolean {
  if (req.method !== 'POST' && req.method !== 'PUT' && req.method !== 'PATCH') return false;
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  return type === 'application/x-www-form-urlencoded';
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new FormError(`http: request body too large (limit ${limit} bytes)`));
        return;
      }
      chunks.push(c);
    });
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', (e) => reject(new FormError(`cannot read request body: ${e.message}`)));
  });
}
