// Builders for registrations and snapshots in verifier tests.
import type {
  Data,
  Histogram,
  Int64,
  MetricMetadata,
  MetricRegistration,
  Snapshot,
  SnapshotPoints,
  Timestamp,
  WireNumber,
} from '@org/metricserver-prom-format';

export const int = (v: Int64): WireNumber => ({ int: v, float: 0 });
export const flt = (v: number): WireNumber => ({ int: 0, float: v });
export const ZERO: WireNumber = { int: 0, float: 0 };

export function meta(prometheusName: string, extra: Partial<MetricMetadata> = {}): MetricMetadata {
  return {
    name: `/${prometheusName.replace(/_/g, '/')}`,
    prometheusName,
    description: `help of ${prometheusName}`,
    cumulative: true,
    sync: false,
    type: 0,
    units: 0,
    fields: [],
    distributionBucketLowerBounds: [],
    ...extra,
  };
}

export const registration = (...metrics: MetricMetadata[]): MetricRegistration => ({ metrics, stages: [] });

export const T0: Timestamp = { seconds: 1_790_000_000, nanos: 500_000_000 };

/** `T0` shifted by `ns` nanoseconds (exact, handles borrow/carry). */
export function at(ns: number): Timestamp {
  const total = BigInt(T0.seconds) * 1_000_000_000n + BigInt(T0.nanos) + BigInt(ns);
  const seconds = total / 1_000_000_000n - (total % 1_000_000_000n < 0n ? 1n : 0n);
  return { seconds: Number(seconds), nanos: Number(total - seconds * 1_000_000_000n) };
}

/** A snapshot that is also its own points (what Verifier.verify takes), so tests can read `.data` too. */
export const snap = (when: Timestamp, ...data: Data[]): Snapshot & SnapshotPoints => ({
  when,
  data,
  length: data.length,
  pointAt: (i: number) => data[i]!,
});

/** A data point consistent with `meta(name, ...)` defaults (counter, help "help of <name>"). */
export function point(name: string, value: WireNumber, labels: Record<string, string> = {}, type = 2): Data {
  return { metric: { name, type, help: `help of ${name}` }, labels, number: value };
}

export function histPoint(name: string, h: Histogram, labels: Record<string, string> = {}): Data {
  return { metric: { name, type: 3, help: `help of ${name}` }, labels, histogramValue: h };
}

/** A histogram over bounds [0, 1, 2] (4 buckets incl. overflow) with the given per-bucket counts. */
export function hist(
  samples: Int64[],
  {
    min = int(0),
    max = int(0),
    ssd = ZERO,
    total = int(0),
  }: Partial<Record<'min' | 'max' | 'ssd' | 'total', WireNumber>> = {},
): Histogram {
  const bounds = [int(0), int(1), int(2), flt(Number.POSITIVE_INFINITY)];
  return {
    total,
    min,
    max,
    sumOfSquaredDeviations: ssd,
    buckets: bounds.map((upperBound, i) => ({ upperBound, samples: samples[i] ?? 0 })),
  };
}

export const DIST = (name: string, extra: Partial<MetricMetadata> = {}): MetricMetadata =>
  meta(name, { type: 1, cumulative: false, distributionBucketLowerBounds: [0, 1, 2], ...extra });
