/** Shadow traffic: mirror sampled live queries to a candidate version and measure agreement. */
export { RBO_P, agreement, jaccardAtK, overlapAtK, rankBiasedOverlap, topK, type Agreement } from './agreement.js';
export {
  currentShadow,
  startShadow,
  stopShadow,
  type ShadowTarget,
  type StartShadowInput,
  type StartShadowResult,
  type StopShadowInput,
} from './config.js';
export {
  createShadower,
  type PrimaryResult,
  type SearchFn,
  type Shadower,
  type ShadowerOptions,
  type ShadowStats,
} from './shadower.js';
export {
  DISTRIBUTION_LIMIT,
  summarizeShadow,
  type AgreementSummary,
  type LowOverlapQuery,
  type SegmentSummary,
  type ShadowSummary,
  type ShadowSummaryOptions,
} from './summary.js';
export {
  agreementHistogram,
  agreementSeries,
  agreementStats,
  recentValues,
  shadowPrimaryKeys,
  storedDrops,
  worstQueries,
  type AgreementStats,
  type SeriesBucket,
  type ShadowScope,
} from './summary-query.js';
export { HandoffQueue, type OfferResult } from './handoff-queue.js';
export { DropCounter, type DropCounts, type DropKind, type DropWriter } from './drop-counter.js';
export { querySha256 } from './record.js';
export { parseDuration, parseSince } from './duration.js';
export { sampled } from './sampling.js';
export { endShadowOf } from './config.js';
