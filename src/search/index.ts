/** Search: one version per request, its own encoder, its own partition. */
export {
  createSearcher,
  DEFAULT_K,
  MAX_K,
  HYBRID_CANDIDATES_PER_K,
  type Searcher,
  type SearcherOptions,
} from './searcher.js';
export type { SearchRequest, SearchResult, SearchHit } from './types.js';
export { resolveVersion, type ResolvedVersion, type VersionSource } from './resolve-version.js';
export { scoreFromDistance } from './score.js';
export { parseFilters, type MetadataFilter } from './filters.js';
export { reciprocalRankFusion, RRF_K } from './rrf.js';
export {
  applyCalibration,
  parseCalibration,
  quantileCalibration,
  type Calibration,
  type QuantileCalibration,
} from './calibration.js';
export { calibrateVersion, type CalibrateOptions } from './calibrate.js';
export { DEFAULT_EF_SEARCH, DEFAULT_MAX_SCAN_TUPLES, defaultProbes } from './knobs.js';
