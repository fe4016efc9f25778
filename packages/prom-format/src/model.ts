// The gVisor metric data model (pkg/prometheus and pkg/metric in gVisor), as
// plain immutable data. Names follow runsc's so the spec reads across.

/**
 * A 64-bit integer from the wire. A JS number while it is a safe integer
 * (|v| <= 2^53-1, the common case and the fast path); a bigint only when it is
 * not. Relational operators (<, >) compare number and bigint correctly; use
 * `int64Equal` for equality.
 */
export type Int64 = number | bigint;

/**
 * gVisor's prometheus.Number: an int64 part and a float64 part, meant to be
 * exclusive. The canonical zero is { int: 0, float: 0 } (wire `{}`). Which part
 * is set decides int-ness, never the lexical form: `{"float":3}` is a float.
 */
export interface WireNumber {
  readonly int: Int64;
  readonly float: number;
}

/** Prometheus metric types as gVisor numbers them on the wire. */
export const MetricType = {
  Untyped: 0,
  Gauge: 1,
  Counter: 2,
  Histogram: 3,
} as const;
export type MetricType = number; // other values are representable on the wire and rejected later

/** prometheus.Metric: compared by value (name, type, help) by the verifier. */
export interface Metric {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
}

/** One histogram bucket: `samples` counts this bucket only (not cumulative). */
export interface Bucket {
  readonly upperBound: WireNumber;
  readonly samples: Int64; // uint64 on the wire
}

export interface Histogram {
  readonly total: WireNumber;
  readonly min: WireNumber;
  readonly max: WireNumber;
  readonly sumOfSquaredDeviations: WireNumber;
  readonly buckets: readonly Bucket[];
}

/** Label map; a sandbox sends at most one field per metric in practice. */
export type Labels = Readonly<Record<string, string>>;

/** The one frozen empty label set the decoders give a point without labels (the builder's fast path tests for it by identity). */
export const NO_LABELS: Labels = Object.freeze({});

/**
 * prometheus.Data: exactly one of `number` / `histogramValue` should be set
 * (the verifier enforces it). `external_labels` from the wire are refused by the
 * decoder: only the server decides sandbox identity labels.
 */
export interface Data {
  readonly metric: Metric;
  readonly labels: Labels;
  readonly number?: WireNumber;
  readonly histogramValue?: Histogram;
}

/**
 * A point in time with nanosecond precision (JS Date has milliseconds only).
 * `seconds` is an integer (may be negative), `nanos` in [0, 1e9).
 */
export interface Timestamp {
  readonly seconds: number;
  readonly nanos: number;
}

/** prometheus.Snapshot: a sandbox's metrics at one instant. */
export interface Snapshot {
  readonly when: Timestamp;
  readonly data: readonly Data[];
}

// ---- Registration (pkg/metric/metric.proto, JSON as stored in state files) ----

export const MetricMetadataType = { Uint64: 0, Distribution: 1 } as const;
export const MetricMetadataUnits = { None: 0, Nanoseconds: 1 } as const;

export interface MetricField {
  readonly fieldName: string;
  readonly allowedValues: readonly string[];
}

/** gvisor.MetricMetadata; zero/empty fields are omitted on the wire. */
export interface MetricMetadata {
  readonly name: string;
  readonly prometheusName: string;
  readonly description: string;
  readonly cumulative: boolean;
  readonly sync: boolean;
  readonly type: number; // MetricMetadataType, other values representable (rejected by the verifier)
  readonly units: number;
  readonly fields: readonly MetricField[];
  readonly distributionBucketLowerBounds: readonly Int64[];
}

/** gvisor.MetricRegistration, as stored in `sandbox.registeredMetrics`. */
export interface MetricRegistration {
  readonly metrics: readonly MetricMetadata[];
  readonly stages: readonly string[];
}
