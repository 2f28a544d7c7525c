import { judgeCounts } from '../judgments/index.js';
import { sql } from 'kysely';
import type { Db } from '../db/index.js';
import { readMigrations } from '../migrate/index.js';
import { schemaVersion } from '../migrate/index.js';
import { annIndexState, partitionTable, type IndexState } from '../partitions/index.js';
import { clusterStatus, type ClusterNode, type VersionShards } from './cluster.js';
import { coverage, listVersions } from '../versions/index.js';
import { BATCH_API_SCHEMA, batchApiStatus, type VersionBatchApi } from './batch-jobs.js';

export interface VersionStatus {
  key: string;
  state: string;
  active: boolean;
  encoder: string;
  dimensions: number;
  metric: string;
  index: string;
  indexState: IndexState;
  embedded: number;
  live: number;
  coverage: number;
  failedBatches: number;
  /** Its Batch API jobs (backfill --batch-api) and texts set aside; absent when it has none. */
  batchApi?: VersionBatchApi;
  /** On a Citus cluster: its partition's shards, on how many nodes, and their size. */
  shards?: VersionShards;
}

export interface Status {
  backend: 'pglite' | 'postgres';
  location: string;
  schema: { version: number; latest: number; pending: number };
  pgvector: string | null;
  server: string;
  chunks: { live: number; retired: number };
  versions: VersionStatus[];
  /** Judges with stored relevance judgments (schema 4 and later). */
  judges: Array<{ judge: string; graded: number; failed: number }>;
  /** On a Citus coordinator: the cluster's nodes. */
  cluster?: { nodes: ClusterNode[] };
}

/** The schema version that brought relevance judgments (migration 0004). */
const JUDGMENTS_SCHEMA = 4;

/** What `embctl status` reports: backend, schema, pgvector, versions with coverage. */
export async function getStatus(db: Db): Promise<Status> {
  const latest = readMigrations().length;
  const version = await schemaVersion(db);
  const ext = await sql<{
    v: string | null;
  }>`select extversion as v from pg_extension where extname = 'vector'`.execute(db.kysely);
  const srv = await sql<{ v: string }>`select current_setting('server_version') as v`.execute(db.kysely);
  const status: Status = {
    backend: db.backend,
    location: db.location,
    schema: { version, latest, pending: Math.max(0, latest - version) },
    pgvector: ext.rows[0]?.v ?? null,
    server: srv.rows[0]?.v ?? 'unknown',
    chunks: { live: 0, retired: 0 },
    versions: [],
    judges: [],
  };
  const cluster = db.distributed ? await clusterStatus(db.kysely) : undefined;
  if (cluster) status.cluster = { nodes: cluster.nodes };
  if (version === 0) return status;

  const counts = await sql<{ live: number; retired: number }>`
    select count(*) filter (where retired_at is null) as live, count(*) filter (where retired_at is not null) as retired
    from document_chunks`.execute(db.kysely);
  status.chunks = { live: Number(counts.rows[0]?.live ?? 0), retired: Number(counts.rows[0]?.retired ?? 0) };
  const cov = await coverage(db.kysely);
  const failed = await sql<{ v: number; n: number }>`
    select embedding_version_id as v, count(*) as n from backfill_batches where status = 'failed' group by 1`.execute(
    db.kysely,
  );
  const failedBy = new Map(failed.rows.map((r) => [Number(r.v), Number(r.n)]));
  const batchApi = version >= BATCH_API_SCHEMA ? await batchApiStatus(db.kysely) : new Map<number, VersionBatchApi>();
  for (const v of await listVersions(db.kysely)) {
    const embedded = v.state === 'retired' ? 0 : (cov.byVersion.get(v.id) ?? 0);
    status.versions.push({
      key: v.version_key,
      state: v.state,
      active: v.active,
      encoder: v.encoder_spec,
      dimensions: v.dimensions,
      metric: v.distance_metric,
      index: v.index_kind === 'none' ? 'none' : `${v.index_kind}/${v.index_storage}`,
      indexState: v.state === 'retired' || v.index_kind === 'none' ? 'missing' : await annIndexState(db.kysely, v.id),
      embedded,
      live: cov.live,
      coverage: cov.live === 0 ? 1 : embedded / cov.live,
      failedBatches: failedBy.get(v.id) ?? 0,
      ...(batchApi.has(v.id) ? { batchApi: batchApi.get(v.id) } : {}),
      ...(cluster?.shardsByTable.has(partitionTable(v.id))
        ? { shards: cluster.shardsByTable.get(partitionTable(v.id)) }
        : {}),
    });
  }
  if (version >= JUDGMENTS_SCHEMA)
    status.judges = (await judgeCounts(db.kysely)).map((j) => ({ judge: j.judge, graded: j.graded, failed: j.failed }));
  return status;
}
