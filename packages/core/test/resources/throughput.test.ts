// Scale check: a scrape asks ~1000 sandboxes for 1-3 containers each. The bound is generous
// (shared 2-core machine; ~40 ms measured here for the 3000 replies); it catches accidental
// quadratic work or a slow decode path, not small regressions.
import { describe, expect, it } from 'vitest';
import { containerCpuNs } from '../../src/resources/cpu-share.js';
import { readEventReply } from '../../src/resources/event-call.js';
import { ResourceVerifier } from '../../src/resources/verifier.js';
import { eventCapture } from '../support/event-captures.js';

const REPLIES = [
  ['pod01', 'event-pod-root.wire.json'],
  ['app01', 'event-pod-sub.wire.json'],
  ['end01', 'event-pod-sub-exited.wire.json'],
].map(([id, name]) => {
  const bytes = Buffer.from(eventCapture(name!));
  return { id: id!, reply: { bytes, length: bytes.length, needsLossless: false } };
});
const CONTAINERS = REPLIES.map((r) => ({ id: r.id, createdAt: 'T' }));

function scrape(verifiers: ResourceVerifier[]): void {
  for (const v of verifiers) {
    const events = REPLIES.map((r) => readEventReply({ socketPath: '/s', containerId: r.id }, r.reply));
    const cpuNs = events.map((e) => containerCpuNs(e, { kind: 'usage', ns: 1214419067 }));
    const r = v.verify({ iteration: 'i', containers: CONTAINERS, events, cpuNs });
    if (!r.ok) throw new Error(r.reason.toString());
  }
}

describe('resource usage throughput', () => {
  it('reads, shares and verifies 1000 pods of 3 containers (one scrape) in well under 1.5 s', () => {
    const verifiers = Array.from({ length: 1000 }, () => new ResourceVerifier());
    scrape(verifiers);
    const started = performance.now();
    scrape(verifiers);
    expect(performance.now() - started).toBeLessThan(1_500);
  });
});
