// The metric registration a fake sandbox reports, in the wire shape runsc
// stores in state files (snake_case proto names, zero fields omitted). The base
// is the real 20240729 capture (174 metrics); Go's map iteration makes the
// order random per sandbox, so we serve a few seeded orders.

import { goJson } from '../wire/go-json.js';
import { Prng } from '../wire/prng.js';
import realRegistration from './real-registration.json' with { type: 'json' };

export interface WireMetricField {
  readonly field_name: string;
  readonly allowed_values: readonly string[];
}

export interface WireMetricMetadata {
  readonly name: string;
  readonly prometheus_name: string;
  readonly description: string;
  readonly cumulative?: boolean;
  readonly sync?: boolean;
  readonly type?: number;
  readonly units?: number;
  readonly fields?: readonly WireMetricField[];
  readonly distribution_bucket_lower_bounds?: readonly number[];
}

export interface WireRegistration {
  readonly metrics: readonly WireMetricMetadata[];
  readonly stages: readonly string[];
}

export const REAL_REGISTRATION: WireRegistration = realRegistration as WireRegistration;

/** A distribution metric added only for sandboxes that lie about histograms (the real build has none). */
export const FAKE_DISTRIBUTION: WireMetricMetadata = {
  name: '/fake/latency',
  prometheus_name: 'fake_latency',
  description: 'Fake distribution used to test histogram verification, in nanoseconds.',
  type: 1,
  units: 1,
  distribution_bucket_lower_bounds: [0, 1, 2, 4, 8],
};

export interface EncodedRegistration {
  readonly value: WireRegistration;
  /** Go-encoded JSON, shared by every sandbox with the same variant (state file + urpc). */
  readonly json: string;
}

const ORDER_VARIANTS = 8;
const cache = new Map<string, EncodedRegistration>();

/** The registration for one sandbox: real metrics in one of a few seeded orders. */
export function registrationFor(seed: number, withDistribution: boolean): EncodedRegistration {
  const variant = seed % ORDER_VARIANTS;
  const key = `${variant}:${withDistribution}`;
  let reg = cache.get(key);
  if (!reg) {
    const metrics = new Prng(variant + 1).shuffle([...REAL_REGISTRATION.metrics]);
    // runsc lists uint64 metrics first, distributions after them.
    if (withDistribution) metrics.push(FAKE_DISTRIBUTION);
    const value: WireRegistration = { metrics, stages: REAL_REGISTRATION.stages };
    reg = { value, json: goJson(value) };
    cache.set(key, reg);
  }
  return reg;
}
