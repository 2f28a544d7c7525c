/**
 * embctl as a library: the same operations the CLI runs, by name. Everything
 * not exported here is internal.
 */
export { loadConfig, type ConfigInput } from './config/index.js';
export type { Config } from './config/index.js';
export { openDatabase, type Db, type Queryable, type Backend, type OpenOptions } from './db/index.js';
export type { DB, DistanceMetric, IndexKind, IndexStorage, VersionState } from './db/index.js';
export { migrate, schemaVersion, type MigrateResult } from './migrate/index.js';
export { getStatus, type Status, type VersionStatus } from './status/index.js';
export { createLogger, silentLogger, type Logger } from './log/index.js';
export {
  EmbctlError,
  UsageError,
  InputError,
  NotFoundError,
  RefusedError,
  UnavailableError,
  ReplicaBehindError,
  EncoderError,
  EncoderOutputError,
  WriteFailedError,
  InvariantError,
  InterruptedError,
  isEmbctlError,
  ERROR_CODES,
  type ErrorCode,
  type RefusalCode,
  type ReadinessCode,
} from './errors.js';
/** @deprecated use UnavailableError (database away), EncoderError, WriteFailedError or InvariantError: named for what happened. */
export { InternalError } from './errors.js';

// Ingest
export {
  ingest,
  normalizeText,
  chunkDocument,
  semanticKey,
  contentSha256,
  type IngestOptions,
  type IngestReport,
  type IngestProgress,
} from './ingest/index.js';
export type { Progress, OnProgress } from './util/index.js';

// Encoders
export type { Encoder, EncoderIdentity, EncoderEvent, EmbedOptions } from './encoders/index.js';
export { createEncoder, identityHash, type EncoderSettings, type EncoderDeps } from './encoders/index.js';
export { parseEncoderSpec } from './encoders/index.js';
export { createHashEncoder, HASH_VARIANTS } from './encoders/index.js';
export { createOpenAIEncoder, type OpenAIEncoderOptions } from './encoders/index.js';
export { createLocalEncoder, type LocalEncoderOptions } from './encoders/index.js';

// Versions and backfill
export { registerVersion, type RegisterInput } from './versions/index.js';
export { findVersion, requireVersion, listVersions, activeVersion, type VersionRow } from './versions/index.js';
export {
  CANARY_TOLERANCE,
  recordCanary,
  verifyCanary,
  type CanaryCheck,
  type CanaryTolerance,
  type RecordCanaryOptions,
  type VerifyCanaryDeps,
} from './versions/index.js';
export {
  runBackfill,
  planBackfill,
  type BackfillOptions,
  type BackfillSummary,
  type BackfillPlan,
  type BackfillProgress,
} from './backfill/index.js';
export { syncLiveVersions, type SyncOptions } from './backfill/index.js';
export {
  deriveVersion,
  storageFigures,
  type DeriveInput,
  type DeriveResult,
  type StorageFigures,
} from './derive/index.js';
export {
  planBatchBackfill,
  runBatchBackfill,
  type BatchApiOptions,
  type BatchApiPlan,
  type BatchApiSummary,
} from './backfill/index.js';
export { buildIndex, type IndexOptions, type IndexResult, type IndexTarget } from './backfill/index.js';

// Search, cut-over, shadow
export {
  createSearcher,
  type Searcher,
  type SearchRequest,
  type SearchResult,
  type SearchHit,
} from './search/index.js';
export {
  activate,
  rollback,
  retire,
  type ActivateResult,
  type RollbackResult,
  type RetireResult,
} from './lifecycle/index.js';
export { startShadow, stopShadow, currentShadow } from './shadow/index.js';
export { createShadower, type Shadower } from './shadow/index.js';
export { summarizeShadow, type ShadowSummary, type ShadowSummaryOptions } from './shadow/index.js';
import { summarizeShadow, type ShadowSummary } from './shadow/index.js';
/** @deprecated renamed summarizeShadow ("report" names the HTML upgrade report only). */
export const shadowReport = summarizeShadow;
/** @deprecated renamed ShadowSummary. */
export type ShadowReport = ShadowSummary;
export { overlapAtK, jaccardAtK, rankBiasedOverlap } from './shadow/index.js';

// Evaluation and gates
export { evaluateRun } from './trec/index.js';
export { loadJudgedSet, type JudgedSet } from './judged-set/index.js';
export { randomizationTest, bootstrapConfidenceInterval } from './stats/index.js';
export {
  runEvaluation,
  readGatesFile,
  parseGates,
  renderMarkdown,
  renderJUnit,
  createSearchRetriever,
  findDefaultJudgedSet,
  pickEvaluationVersions,
  type EvaluationOutcome,
  type EvaluationVersions,
  type EvaluationProgress,
} from './evaluate/index.js';
import type { EvaluationOutcome } from './evaluate/index.js';
/** @deprecated renamed EvaluationOutcome ("report" names the HTML upgrade report only). */
export type EvaluationReport = EvaluationOutcome;

// Serving and reporting
export { createService, type Service, type ServiceOptions } from './serve/index.js';
export { generateReport, renderReport, loadReportModel } from './upgrade-report/index.js';
