// The public surface of src/backfill/: other folders import from here only.
export { DEAD_RUNS_SCHEMA, markDeadRunsIfWritable } from './dead-runs.js';
export { buildIndex } from './index-build.js';
export type { IndexOptions, IndexResult, IndexTarget } from './index-build.js';
export { planBackfill, runBackfill } from './run.js';
export type { BackfillDeps, BackfillOptions, BackfillPlan, BackfillProgress, BackfillSummary } from './types.js';
export { syncLiveVersions } from './sync.js';
export type { SyncOptions } from './sync.js';
export { Quota } from './quota.js';
export type { QuotaOptions } from './quota.js';
export { planBatchBackfill, runBatchBackfill } from './batch-api/run.js';
export type { BatchApiDeps } from './batch-api/run.js';
export { DEFAULT_LIMITS as BATCH_API_DEFAULT_LIMITS } from './batch-api/types.js';
export type {
  BatchApiLimits,
  BatchApiOptions,
  BatchApiPlan,
  BatchApiProgress,
  BatchApiSummary,
  ExhaustedPolicy,
} from './batch-api/types.js';
