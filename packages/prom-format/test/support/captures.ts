// The shared real runsc captures (repo-level test-support), re-exported for this package's tests.
export { readCapture, readCaptureBytes } from '../../../../test-support/captures.js';
