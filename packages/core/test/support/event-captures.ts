// The real containerManager.Event captures of runsc 20240729 (test-support/captures/events, see its README).
export { eventCapture, eventCaptureNames, eventSeries } from '../../../../test-support/captures.js';
