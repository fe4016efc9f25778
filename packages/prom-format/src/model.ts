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

/**
 * The one frozen empty label set the decoders give a point without labels (the builder's
 * fast path tests for it by identity).
 */
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

/**
 * A snapshot's points, read one at a time: the one shape the verifier and the exposition
 * builder take, whether the points are Data objects (a Snapshot, through `pointsOf`) or
 * the canonical decoder's columns (DecodedPoints).
 */
export interface SnapshotPoints {
  readonly when: Timestamp;
  readonly length: number;
  /**
   * Point `i`. A reader may hand out one object that its next call overwrites (the
   * decoder's columns have no object per point): read a point before asking for the
   * next, and keep nothing of it but its values and its shared metric and labels.
   */
  pointAt(i: number): Data;
  /**
   * The decoder that wrote these points, when one did (CanonicalSnapshotDecoder): every
   * definition and label value is then a byte-exact copy of one it knows, so a verifier of
   * the same rule table need not check them again. Undefined for any other points.
   */
  readonly decoder?: object;
}

/** The points as a Snapshot of Data objects of its own (for a caller that keeps them). */
export function snapshotOf(points: SnapshotPoints): Snapshot {
  const data: Data[] = [];
  for (let i = 0; i < points.length; i++) {
    const d = points.pointAt(i);
    data.push(d.number === undefined ? { ...d } : { ...d, number: { int: d.number.int, float: d.number.float } });
  }
  return { when: points.when, data };
}

/** A Snapshot's points, read in place (a snapshot without data has none). */
export function pointsOf(snapshot: Snapshot): SnapshotPoints {
  return new DataPoints(snapshot);
}

class DataPoints implements SnapshotPoints {
  private readonly data: readonly Data[];
  constructor(private readonly snapshot: Snapshot) {
    const data = snapshot?.data;
    this.data = Array.isArray(data) ? data : [];
  }
  get when(): Timestamp {
    return this.snapshot?.when;
  }
  get length(): number {
    return this.data.length;
  }
  pointAt(i: number): Data {
    return this.data[i]!;
  }
}

/** Exposition format: the Prometheus text format 0.0.4, or OpenMetrics 1.0.0. */
export type ExpositionFormat = 'prometheus' | 'openmetrics';

/** One snapshot to render with the prefix and the server-decided labels of its source. */
export interface SnapshotExport {
  readonly snapshot: SnapshotPoints;
  /** Prepended to every metric name of this snapshot. */
  readonly exporterPrefix: string;
  /** Added to every line; they win over a same-named label sent in the snapshot. */
  readonly extraLabels: Labels;
  /**
   * The caller vouches that no two points of the snapshot share a metric name and label
   * set (a verifier accepted it), so the builder skips its duplicate check within the
   * snapshot where the extra labels cannot merge two label sets. The output is the same
   * either way for such a snapshot; a false promise lets duplicate lines through.
   */
  readonly distinctSeries?: boolean;
}

/** A data point the exposition refused; nothing of it was written. */
export interface SkippedData {
  /** The snapshot's slot (its index among the snapshots rendered). */
  readonly snapshotIndex: number;
  /** The full (prefixed) metric name. */
  readonly metric: string;
  readonly reason: string;
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
