// The shared strict OpenMetrics parser (repo-level test-support), re-exported for this package's tests.
export { expectValidOpenMetrics, parseOpenMetrics, OpenMetricsError } from '../../../../test-support/openmetrics.js';
