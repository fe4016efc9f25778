// The shared seeded PRNG (repo-level test-support), re-exported for this package's tests.
export { rng } from '../../../../test-support/rng.js';
