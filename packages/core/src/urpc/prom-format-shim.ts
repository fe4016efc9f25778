// TEMPORARY: prom-format's index does not export its API yet, so core reaches
// into its source modules here, in one place. Once the index exports them,
// replace this file's body with re-exports from '@org/metricserver-prom-format'.
export type {
  Int64,
  WireNumber,
  Metric,
  Bucket,
  Histogram,
  Labels,
  Data,
  Timestamp,
  Snapshot,
  MetricField,
  MetricMetadata,
  MetricRegistration,
} from '../../../prom-format/src/model.js';
export { parseJson } from '../../../prom-format/src/json.js';
export { decodeExportResult, decodeRegistration, DecodeError } from '../../../prom-format/src/decode.js';
