// The shared reference serializer (repo-level test-support, the oracle of the builder's tests), re-exported for this package's tests.
export {
  type ReferenceExposition,
  type ReferenceFormat,
  type ReferenceOptions,
  type ReferenceSkip,
  type ReferenceSnapshot,
  referenceExposition,
  type SkipRule,
} from '../../../../test-support/exposition-reference.js';
