// The public surface: what core, the server and a library user need. Everything else is
// internal to the package (its tests import modules directly).

// Writing the exposition.
export {
  type BuilderOptions,
  BuilderStateError,
  ExpositionBuilder,
  type FinishOptions,
} from './builder/builder.js';
export type { RenderedPieces } from './builder/pieces.js';
export { CanonicalSnapshotDecoder, DecodedPoints, goJsonString, type KnownMetric } from './canonical.js';
// Reading what a sandbox sends: the strict general path, and the canonical fast path.
export { DecodeError, decodeExportResult, decodeRegistration, decodeSnapshot, type ExportResult } from './decode.js';
export { FamilyPool } from './family-pool.js';
export { INT64_MAX, INT64_MIN, isInt64, isUint64, parseJson, parseJsonDetected, UINT64_MAX } from './json.js';
// The wire model: runsc's metric types, as plain data, and the indexed point reader.
export {
  type Bucket,
  type Data,
  type ExpositionFormat,
  type Histogram,
  type Int64,
  type Labels,
  type Metric,
  type MetricField,
  type MetricMetadata,
  MetricMetadataType,
  MetricMetadataUnits,
  type MetricRegistration,
  MetricType,
  NO_LABELS,
  pointsOf,
  type SkippedData,
  type Snapshot,
  type SnapshotExport,
  type SnapshotPoints,
  snapshotOf,
  type Timestamp,
  type WireNumber,
} from './model.js';
export { isValidLabelName, isValidMetricName } from './names.js';
export {
  floatNumber,
  int64Equal,
  intNumber,
  isInteger,
  numberToFloat,
  renderNumber,
  sameType,
  ZERO,
} from './number.js';
export {
  addNanos,
  compareTimestamps,
  formatGoTime,
  nowTimestamp,
  parseRfc3339,
  TimestampError,
  timestampFromDate,
  timestampMillis,
} from './time.js';
