// The public surface of src/db/: other folders import from here only.
export { isConnectionLoss, secretsOfUrl } from './connection-errors.js';
export { copyFromStdinQuery, preparedQuery, scriptQuery } from './driver/special-queries.js';
export { sessionSettingsQuery, withSessionSettings, type SettingValues } from './driver/session-settings.js';
export { openDatabase, queryable } from './open.js';
export type { Backend, Db, OpenOptions, Queryable } from './open.js';
export type {
  DB,
  DistanceMetric,
  EmbeddingVersionsTable,
  EvaluationRunsTable,
  IndexKind,
  IndexStorage,
  JudgeCalibrationsTable,
  JudgedKeyKind,
  RelevanceJudgmentsTable,
  VersionEventKind,
  VersionState,
} from './schema.js';
export { primaryFromConninfo, replayLag, standbyInfo, type ReplayLag, type StandbyInfo } from './standby.js';
export { formatVectorText, vectorBinarySize, vectorProblem, writeVectorBinary } from './vector-codec.js';
export { QueryVector } from './query-vector.js';
