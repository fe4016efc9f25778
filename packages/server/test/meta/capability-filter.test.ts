// The meta snapshot's capability points follow core's capability filter rule (runsc's):
// a filter matches `X` or `CAP_X`, and runsc's `UNKNOWN` only as itself.

import { compileRe2Filter } from '@org/metricserver-core';
import type { Labels } from '@org/metricserver-prom-format';
import { describe, expect, it } from 'vitest';
import type { SandboxMeta } from '../../src/backend.js';
import { MetaSnapshotBuilder } from '../../src/meta.js';

const identity: Labels = Object.freeze({ sandbox: 'sb-a' });
const meta: SandboxMeta = {
  metricMetadata: Object.freeze({}),
  capabilities: ['CHOWN', 'NET_RAW', 'UNKNOWN'],
  specMetadata: Object.freeze({}),
  creationTimeSeconds: 1_700_000_000,
};

function capabilitiesKept(pattern: string | undefined): string[] {
  const filter = pattern === undefined ? undefined : compileRe2Filter(pattern);
  const b = new MetaSnapshotBuilder(filter, { seconds: 1_700_000_100, nanos: 0 }, 'runsc_meta_');
  b.addSandbox(identity, meta, true, true);
  const kept: string[] = [];
  b.flush((part) => {
    for (let i = 0; i < part.snapshot.length; i++) {
      const d = part.snapshot.pointAt(i);
      if (d.metric.name === 'sandbox_capabilities') kept.push(d.labels['capability']!);
    }
  });
  return kept;
}

describe('meta snapshot capability filter', () => {
  it('keeps every capability without a filter', () => {
    expect(capabilitiesKept(undefined)).toEqual(['CHOWN', 'NET_RAW', 'UNKNOWN']);
  });

  it('matches the CAP_ form or the trimmed form', () => {
    expect(capabilitiesKept('^CAP_NET')).toEqual(['NET_RAW']);
    expect(capabilitiesKept('^CHOWN$')).toEqual(['CHOWN']);
  });

  it('tests UNKNOWN as itself only, as runsc does', () => {
    expect(capabilitiesKept('^CAP_')).toEqual(['CHOWN', 'NET_RAW']);
    expect(capabilitiesKept('^UNKNOWN$')).toEqual(['UNKNOWN']);
  });
});
