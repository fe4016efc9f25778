// The shared strict OpenMetrics parser (repo-level test-support), re-exported for this package's tests.
export { expectValidOpenMetrics, OpenMetricsError, parseOpenMetrics } from '../../../../test-support/openmetrics.js';
