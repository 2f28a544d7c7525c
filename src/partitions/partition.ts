import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DB, DistanceMetric, IndexKind, IndexStorage } from '../db/index.js';
import { derivationOf, vectorColumn, type Derivation } from './transform.js';

/**
 * DDL for one version's partition of chunk_embeddings. Identifiers and the
 * few literals DDL cannot take as parameters are built from validated
 * integers and fixed enums only, never from user text.
 */
export interface PartitionSpec {
  id: number;
  dimensions: number;
  distance_metric: DistanceMetric;
  index_kind: IndexKind;
  index_storage: IndexStorage;
  index_params: Record<string, number>;
  /** Set for a derived version (migration 0007): its vectors are in another column (transform.ts). */
  derivation?: Record<string, unknown> | Derivation | null;
}

type Exec = Kysely<DB>;

function checkedInt(n: unknown, what: string, min = 1, max = 2 ** 31 - 1): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new Error(`${what} must be an integer in [${min}, ${max}], got ${String(n)}`);
  }
  return n;
}

export function partitionTable(versionId: number): string {
  return `chunk_embeddings_v${checkedInt(versionId, 'version id')}`;
}

export function annIndexName(versionId: number): string {
  return `${partitionTable(versionId)}_ann`;
}

/** The indexed expression, e.g. `(embedding::vector(384))`; queries must use exactly this. */
export function castExpression(
  v: Pick<PartitionSpec, 'dimensions' | 'index_storage' | 'derivation'>,
  alias?: 'e' | 'p',
): string {
  return `(${alias ? `${alias}.` : ''}${vectorColumn(v)}::${queryCast(v)})`;
}

/** The type a query vector is cast to so that it matches the indexed expression. */
export function queryCast(v: Pick<PartitionSpec, 'dimensions' | 'index_storage'>): string {
  const d = checkedInt(v.dimensions, 'dimensions', 1, v.index_storage === 'bit' ? 64000 : 16000);
  return `${v.index_storage}(${d})`;
}

const OPERATORS: Record<DistanceMetric, string> = { cosine: '<=>', l2: '<->', ip: '<#>', hamming: '<~>' };
const OPCLASS_SUFFIX: Record<DistanceMetric, string> = {
  cosine: 'cosine_ops',
  l2: 'l2_ops',
  ip: 'ip_ops',
  hamming: 'hamming_ops',
};

export function distanceOperator(metric: DistanceMetric): string {
  const op = OPERATORS[metric];
  if (!op) throw new Error(`unknown distance metric ${String(metric)}`);
  return op;
}

/** The operator the ANN index serves: Hamming for bits (whatever metric a re-rank returns), else the metric's. */
export function indexOperator(v: Pick<PartitionSpec, 'distance_metric' | 'index_storage'>): string {
  return distanceOperator(v.index_storage === 'bit' ? 'hamming' : v.distance_metric);
}

export function operatorClass(v: Pick<PartitionSpec, 'distance_metric' | 'index_storage'>): string {
  if (v.index_storage === 'bit') return 'bit_hamming_ops';
  return `${v.index_storage === 'halfvec' ? 'halfvec' : 'vector'}_${OPCLASS_SUFFIX[v.distance_metric]}`;
}

/**
 * Vectors up to ~8 KB fit a heap page: store them PLAIN (no TOAST, +46% COPY
 * throughput measured on 1536-d); larger ones EXTERNAL (out of line, never
 * compressed: float noise does not compress).
 */
export function storageFor(dimensions: number): 'PLAIN' | 'EXTERNAL' {
  return 8 + 4 * dimensions <= 8000 ? 'PLAIN' : 'EXTERNAL';
}

/** Create the version's partition with its dimension CHECK (in the caller's transaction). */
export async function createPartition(db: Exec, v: PartitionSpec): Promise<void> {
  const table = partitionTable(v.id);
  const d = checkedInt(v.dimensions, 'dimensions', 1, 16000);
  await sql.raw(`CREATE TABLE ${table} PARTITION OF chunk_embeddings FOR VALUES IN (${v.id})`).execute(db);
  const derived = derivationOf(v);
  if (derived) {
    const col = vectorColumn(v);
    const dims = derived.storage === 'bit' ? `length(${col})` : `vector_dims(${col})`;
    await sql.raw(`ALTER TABLE ${table} ALTER COLUMN ${col} SET NOT NULL`).execute(db);
    await sql.raw(`ALTER TABLE ${table} ADD CONSTRAINT ${table}_dims CHECK (${dims} = ${d})`).execute(db);
    return;
  }
  await sql.raw(`ALTER TABLE ${table} ALTER COLUMN embedding SET NOT NULL`).execute(db);
  await sql.raw(`ALTER TABLE ${table} ADD CONSTRAINT ${table}_dims CHECK (vector_dims(embedding) = ${d})`).execute(db);
  // Citus refuses SET STORAGE on a distributed table: there the shards keep the default (EXTENDED).
  if (!(await onCitus(db))) {
    await sql.raw(`ALTER TABLE ${table} ALTER COLUMN embedding SET STORAGE ${storageFor(d)}`).execute(db);
  }
}

async function onCitus(db: Exec): Promise<boolean> {
  const { rows } = await sql<{ ok: boolean }>`
    select exists (select 1 from pg_extension where extname = 'citus') as ok`.execute(db);
  return Boolean(rows[0]?.ok);
}

export async function dropPartition(db: Exec, versionId: number): Promise<void> {
  await sql.raw(`DROP TABLE IF EXISTS ${partitionTable(versionId)}`).execute(db);
}

export async function partitionExists(db: Exec, versionId: number): Promise<boolean> {
  const { rows } = await sql<{ t: string | null }>`select to_regclass(${partitionTable(versionId)})::text as t`.execute(
    db,
  );
  return Boolean(rows[0]?.t);
}

export interface IndexBuildOptions {
  /** CREATE INDEX CONCURRENTLY (server only; must run outside a transaction). */
  concurrently?: boolean;
  /** e.g. '1GB'; validated. */
  maintenanceWorkMem?: string;
  /** Parallel maintenance workers for the build (server). */
  parallelWorkers?: number;
  /** Rows in the partition, to size IVFFlat lists when not given. */
  rowCount?: number;
}

/** The CREATE INDEX statement for the version's ANN index (null when index_kind is none). */
export function annIndexStatement(v: PartitionSpec, opts: IndexBuildOptions = {}): string | null {
  if (v.index_kind === 'none') return null;
  const table = partitionTable(v.id);
  const using = v.index_kind === 'hnsw' ? 'hnsw' : 'ivfflat';
  const params: string[] = [];
  if (v.index_kind === 'hnsw') {
    params.push(`m = ${checkedInt(v.index_params.m ?? 16, 'm', 2, 100)}`);
    params.push(`ef_construction = ${checkedInt(v.index_params.ef_construction ?? 64, 'ef_construction', 4, 1000)}`);
  } else {
    const lists = v.index_params.lists ?? defaultLists(opts.rowCount ?? 0);
    params.push(`lists = ${checkedInt(lists, 'lists', 1, 32768)}`);
  }
  return (
    `CREATE INDEX ${opts.concurrently ? 'CONCURRENTLY ' : ''}${annIndexName(v.id)} ON ${table} ` +
    `USING ${using} (${castExpression(v)} ${operatorClass(v)}) WITH (${params.join(', ')})`
  );
}

/** pgvector's advice: rows/1000 lists up to 1M rows, sqrt(rows) above. */
export function defaultLists(rows: number): number {
  if (rows <= 1_000_000) return Math.max(1, Math.round(rows / 1000));
  return Math.round(Math.sqrt(rows));
}

export type IndexState = 'missing' | 'valid' | 'invalid';

/** Whether the version's ANN index exists and is valid (pg_index.indisvalid). */
export async function annIndexState(db: Exec, versionId: number): Promise<IndexState> {
  const { rows } = await sql<{ valid: boolean }>`
    select i.indisvalid as valid from pg_index i
    where i.indexrelid = to_regclass(${annIndexName(versionId)})`.execute(db);
  if (rows.length === 0) return 'missing';
  return rows[0]!.valid ? 'valid' : 'invalid';
}

export async function dropAnnIndex(db: Exec, versionId: number): Promise<void> {
  await sql.raw(`DROP INDEX IF EXISTS ${annIndexName(versionId)}`).execute(db);
}

/** `SELECT chunk_id, distance` over exactly one partition, ordered by the indexed expression (through its output name, so the vector is sent once). */
export function nearestQuery(
  v: PartitionSpec,
  queryVectorText: string,
  k: number,
): RawBuilder<{ chunk_id: number; distance: number }> {
  const expr = sql.raw(castExpression(v));
  const op = sql.raw(indexOperator(v));
  const cast = sql.raw(queryCast(v));
  const table = sql.raw(partitionTable(v.id));
  return sql<{ chunk_id: number; distance: number }>`
    select chunk_id, ${expr} ${op} ${queryVectorText}::${cast} as distance
    from ${table}
    order by distance
    limit ${checkedInt(k, 'k', 1, 10000)}`;
}
