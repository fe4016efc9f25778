export {
  FilterError,
  MAX_FILTER_PATTERN_LENGTH,
  type Re2Filter,
  capabilityFilterMatches,
  compileRe2Filter,
  re2FilterCacheSize,
} from './re2-filter.js';
