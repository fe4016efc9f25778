export {
  capabilityFilterMatches,
  compileRe2Filter,
  FilterError,
  MAX_FILTER_PATTERN_LENGTH,
  type Re2Filter,
  re2FilterCacheSize,
} from './re2-filter.js';
