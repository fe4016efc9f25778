// The shared promtool judge (repo-level test-support), re-exported for this package's tests.
export { expectPromtoolAccepts, promtoolCheck } from '../../../../test-support/promtool.js';
