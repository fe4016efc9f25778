// `/runsc-metrics/pid`: the server's PID, no newline.

import type { Handler } from '../http.js';
import { sendBody, sendError, TEXT_PLAIN } from '../http.js';
import type { AppState } from '../state.js';

export function pidHandler(app: AppState): Handler {
  return (_req, res) => {
    if (app.isShuttingDown()) return sendError(res, 503, 'server is shutting down');
    sendBody(res, 200, String(app.pid), TEXT_PLAIN);
  };
}
