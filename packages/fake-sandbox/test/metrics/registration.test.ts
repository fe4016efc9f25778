// The emulator ships the real registration in its src (its runtime data); this holds that
// copy to the shared capture, so the two cannot drift apart.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readCapture } from '../../../../test-support/captures.js';

describe('the registration the fake sandboxes serve', () => {
  it("is the captured reply's RegisteredMetrics, byte for byte", () => {
    const shipped = readFileSync(new URL('../../src/metrics/real-registration.json', import.meta.url), 'utf8');
    const wire = readCapture('registered-metrics.wire.json');
    expect(wire).toBe(`{"success":true,"err":"","result":{"RegisteredMetrics":${shipped}}}`);
  });
});
