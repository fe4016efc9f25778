export { expectPromtoolAccepts, promtoolCheck } from '../../../../test-support/promtool.js';
