import type { ColumnType, Generated } from 'kysely';

/** Kysely's view of the embctl schema (migrations/ is the source of truth). */

type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Json<T = Record<string, unknown>> = ColumnType<T, string | T | undefined, string | T>;

/** `hamming` (pgvector `<~>`) only for bit storage (derived versions, migration 0007). */
export type DistanceMetric = 'cosine' | 'l2' | 'ip' | 'hamming';
export type IndexKind = 'hnsw' | 'ivfflat' | 'none';
/** `bit` only for derived versions (binary quantization, migration 0007). */
export type IndexStorage = 'vector' | 'halfvec' | 'bit';
export type VersionState = 'registered' | 'backfilling' | 'ready' | 'retired';
export type VersionEventKind =
  | 'registered'
  | 'backfill_started'
  | 'backfill_completed'
  | 'backfill_failed'
  | 'index_built'
  | 'gate_passed'
  | 'gate_failed'
  | 'activated'
  | 'rolled_back'
  | 'retired'
  | 'shadow_started'
  | 'shadow_stopped'
  | 'canary_recorded'
  | 'canary_checked'
  | 'canary_failed';

export interface DocumentChunksTable {
  id: Generated<number>;
  semantic_key: string;
  document_id: string;
  chunk_no: number;
  content: string;
  content_sha256: Uint8Array;
  metadata: Json;
  content_tsv: ColumnType<string, never, never>;
  retired_at: NullableTimestamp;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface EmbeddingVersionsTable {
  id: Generated<number>;
  version_key: string;
  encoder_spec: string;
  encoder_name: string;
  encoder_revision: string;
  encoder_settings: Json<Record<string, string | number | boolean | null>>;
  encoder_identity: string;
  dimensions: number;
  distance_metric: DistanceMetric;
  index_kind: IndexKind;
  index_params: Json<Record<string, number>>;
  index_storage: IndexStorage;
  state: ColumnType<VersionState, VersionState | undefined, VersionState>;
  active: ColumnType<boolean, boolean | undefined, boolean>;
  calibration: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  retired_at: NullableTimestamp;
  /** Derived versions (migration 0007): the version the vectors are computed from, and how. */
  parent_version_id: ColumnType<number | null, number | null | undefined, number | null>;
  derivation: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  /** The encoder was trained so that a prefix of its output still works (Matryoshka). */
  matryoshka: ColumnType<boolean, boolean | undefined, boolean>;
}

export interface ChunkEmbeddingsTable {
  chunk_id: number;
  embedding_version_id: number;
  /** Every partition but a derived halfvec or bit one stores here (then it is null). */
  embedding: ColumnType<Float32Array, string | undefined, string>;
  /** Derived `--storage halfvec` and `--storage bit` partitions (migration 0007). */
  embedding_half: ColumnType<Float32Array | null, string | undefined, string>;
  embedding_bits: ColumnType<string | null, string | undefined, string>;
}

export interface VersionEventsTable {
  id: Generated<number>;
  embedding_version_id: number | null;
  version_key: string;
  event: VersionEventKind;
  actor: string;
  reason: string | null;
  forced: ColumnType<boolean, boolean | undefined, boolean>;
  details: Json;
  created_at: Generated<Date>;
}

export interface BackfillBatchesTable {
  id: Generated<number>;
  embedding_version_id: number;
  plan_group: number;
  texts: Generated<number>;
  status: ColumnType<'pending' | 'done' | 'failed', 'pending' | 'done' | 'failed' | undefined>;
  locked_by: string | null;
  locked_until: NullableTimestamp;
  attempts: Generated<number>;
  last_error: string | null;
  embedded: Generated<number>;
  reused: Generated<number>;
  tokens: Generated<number>;
  /** The run that completed the batch (migration 0003). */
  run_id: ColumnType<number | null, number | null | undefined, number | null>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface BackfillItemsTable {
  embedding_version_id: number;
  content_sha256: Uint8Array;
  batch_id: number;
}

export interface BackfillRunsTable {
  id: Generated<number>;
  embedding_version_id: number;
  worker: string;
  status: ColumnType<
    'running' | 'completed' | 'stopped' | 'failed',
    'running' | 'completed' | 'stopped' | 'failed' | undefined
  >;
  embedded: Generated<number>;
  reused: Generated<number>;
  tokens: Generated<number>;
  cost_usd: Generated<number>;
  encoder_requests: Generated<number>;
  rate_limited: Generated<number>;
  error: string | null;
  started_at: Generated<Date>;
  heartbeat_at: Generated<Date>;
  finished_at: NullableTimestamp;
  /** USD per million tokens the run was costed at; null when unknown (migration 0003). */
  price_per_mtok: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface ShadowConfigsTable {
  embedding_version_id: number;
  sample_rate: number;
  k: Generated<number>;
  store_query_text: Generated<boolean>;
  started_at: Generated<Date>;
  stopped_at: NullableTimestamp;
}

export interface ShadowQueriesTable {
  id: Generated<number>;
  created_at: Generated<Date>;
  query_sha256: Uint8Array;
  query_text: string | null;
  segment: string | null;
  primary_version_id: number;
  candidate_version_id: number;
  k: number;
  primary_ids: number[];
  candidate_ids: number[];
  overlap_at_k: number;
  jaccard: number;
  rbo: number;
  primary_ms: number;
  candidate_ms: number;
}

export interface ShadowDropsTable {
  candidate_version_id: number;
  bucket_start: Date;
  dropped: Generated<number>;
  failed: Generated<number>;
}

export interface EvaluationRunsTable {
  id: Generated<number>;
  embedding_version_id: number;
  baseline_version_id: number | null;
  judged_set_name: string;
  judged_set_sha256: string;
  gated: Generated<boolean>;
  passed: boolean | null;
  metrics: Json;
  per_query: Json<unknown[]>;
  gates: Json<unknown[]>;
  actor: string;
  created_at: Generated<Date>;
}

export type JudgedKeyKind = 'document_id' | 'semantic_key';

/** Migration 0004: one grade (or failure) per (judge, query, key). */
export interface RelevanceJudgmentsTable {
  id: Generated<number>;
  query_sha256: string;
  query_text: string;
  key_kind: JudgedKeyKind;
  doc_key: string;
  judge: string;
  judge_spec: string;
  judge_model: string | null;
  judge_revision: string | null;
  judge_settings: Json;
  grade: number | null;
  raw_score: number | null;
  failure: string | null;
  actor: string;
  created_at: Generated<Date>;
}

/** Migration 0004: a judge's agreement with people, and a cross-encoder's fitted thresholds. */
export interface JudgeCalibrationsTable {
  id: Generated<number>;
  judge: string;
  judge_base: string;
  judge_spec: string;
  judged_set_name: string;
  judged_set_sha256: string;
  pairs: number;
  kappa: number;
  accuracy: number;
  kendall_tau: number | null;
  thresholds: ColumnType<number[] | null, string | null, string | null>;
  details: Json;
  actor: string;
  created_at: Generated<Date>;
}

/** Migration 0005: the encoder canary recorded for a version. */
export interface EncoderCanariesTable {
  embedding_version_id: number;
  set_name: string;
  set_sha256: string;
  texts: number;
  corpus_sample: ColumnType<number, number | undefined, number>;
  dimensions: number;
  reported_model: string;
  actor: string;
  created_at: Generated<Date>;
}

/** Migration 0005: one canary text of a version, with its vector as the encoder returned it. */
export interface EncoderCanaryTextsTable {
  embedding_version_id: number;
  position: number;
  source: 'shipped' | 'corpus';
  content: string;
  content_sha256: string;
  embedding: ColumnType<number[], number[], number[]>;
}

export interface MigrationsTable {
  id: number;
  name: string;
  checksum: string;
  applied_at: Generated<Date>;
}

export interface DB {
  document_chunks: DocumentChunksTable;
  embedding_versions: EmbeddingVersionsTable;
  chunk_embeddings: ChunkEmbeddingsTable;
  version_events: VersionEventsTable;
  backfill_batches: BackfillBatchesTable;
  backfill_items: BackfillItemsTable;
  backfill_runs: BackfillRunsTable;
  shadow_configs: ShadowConfigsTable;
  shadow_queries: ShadowQueriesTable;
  shadow_drops: ShadowDropsTable;
  evaluation_runs: EvaluationRunsTable;
  relevance_judgments: RelevanceJudgmentsTable;
  judge_calibrations: JudgeCalibrationsTable;
  encoder_canaries: EncoderCanariesTable;
  encoder_canary_texts: EncoderCanaryTextsTable;
  embctl_migrations: MigrationsTable;
}
