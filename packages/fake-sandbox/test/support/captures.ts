// The real containerManager.Event captures (test-support/captures/events, see its README).
import { eventCapture, eventCaptureNames } from '../../../../test-support/captures.js';

export { eventCapture, eventSeries } from '../../../../test-support/captures.js';

/** Every `*.wire.json` capture: file name → exact reply bytes. */
export function eventCaptures(): Map<string, string> {
  return new Map(eventCaptureNames().map((n) => [n, eventCapture(n)]));
}
