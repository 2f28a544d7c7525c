/**
 * embctl as a library: the same operations the CLI runs, by name. Everything
 * not exported here is internal.
 */
export { loadConfig, type ConfigInput } from './config/load.js';
export type { Config } from './config/schema.js';
export { openDatabase, type Db, type Backend, type OpenOptions } from './db/open.js';
export type { DB, DistanceMetric, IndexKind, IndexStorage, VersionState } from './db/schema.js';
export { migrate, schemaVersion, type MigrateResult } from './migrate/runner.js';
export { getStatus, type Status, type VersionStatus } from './status/status.js';
export { createLogger, silentLogger, type Logger } from './log/logger.js';
export {
  EmbctlError, UsageError, InputError, NotFoundError, RefusedError, UnavailableError, EncoderError, EncoderOutputError, WriteFailedError,
  InvariantError, InterruptedError, isEmbctlError, ERROR_CODES, type ErrorCode, type RefusalCode, type ReadinessCode,
} from './errors.js';
/** @deprecated use UnavailableError (database away), EncoderError, WriteFailedError or InvariantError: named for what happened. */
export { InternalError } from './errors.js';

// Ingest
export { ingest, normalizeText, chunkDocument, semanticKey, contentSha256, type IngestOptions, type IngestReport } from './ingest/index.js';

// Encoders
export type { Encoder, EncoderIdentity, EncoderEvent, EmbedOptions } from './encoders/types.js';
export { createEncoder, identityHash, type EncoderSettings, type EncoderDeps } from './encoders/factory.js';
export { parseEncoderSpec } from './encoders/spec.js';
export { createHashEncoder, HASH_VARIANTS } from './encoders/hash/index.js';
export { createOpenAIEncoder, type OpenAIEncoderOptions } from './encoders/openai/index.js';
export { createLocalEncoder, type LocalEncoderOptions } from './encoders/local/index.js';

// Versions and backfill
export { registerVersion, type RegisterInput } from './versions/register.js';
export { findVersion, requireVersion, listVersions, activeVersion, type VersionRow } from './versions/store.js';
export { runBackfill, planBackfill, type BackfillOptions, type BackfillSummary, type BackfillPlan, type BackfillProgress } from './backfill/run.js';
export { syncLiveVersions, type SyncOptions } from './backfill/sync.js';
export { buildIndex, type IndexOptions, type IndexResult, type IndexTarget } from './backfill/index-build.js';

// Search, cut-over, shadow
export { createSearcher, type Searcher, type SearchRequest, type SearchResult, type SearchHit } from './search/index.js';
export { activate, rollback, retire, type ActivateResult, type RollbackResult, type RetireResult } from './lifecycle/index.js';
export { startShadow, stopShadow, currentShadow } from './shadow/config.js';
export { createShadower, type Shadower } from './shadow/shadower.js';
export { shadowReport, type ShadowReport } from './shadow/summary.js';
export { overlapAtK, jaccardAtK, rankBiasedOverlap } from './shadow/agreement.js';

// Evaluation and gates
export { evaluateRun } from './trec/index.js';
export { loadJudgedSet, type JudgedSet } from './judged-set/index.js';
export { randomizationTest, bootstrapConfidenceInterval } from './stats/index.js';
export { runEvaluation, readGatesFile, parseGates, renderMarkdown, renderJUnit, createSearchRetriever, findDefaultJudgedSet, pickEvaluationVersions, type EvaluationReport, type EvaluationVersions } from './evaluate/index.js';

// Serving and reporting
export { createService, type Service, type ServiceOptions } from './serve/server.js';
export { generateReport, renderReport, loadReportModel } from './upgrade-report/index.js';
