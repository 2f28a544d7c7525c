import { sql, type RawBuilder } from 'kysely';
import type { DistanceMetric, IndexStorage, QueryVector } from '../db/index.js';
import {
  castExpression,
  derivationOf,
  distanceOperator,
  indexOperator,
  partitionTable,
  queryCast,
  queryVectorSql,
  type Derivation,
} from '../partitions/index.js';
import type { MetadataFilter } from './filters.js';

/** What a query needs of a version (a row of embedding_versions fits). */
export interface SearchTarget {
  id: number;
  dimensions: number;
  distance_metric: DistanceMetric;
  index_storage: IndexStorage;
  /** A derived version's transform (partitions/transform.ts); null or absent for a stored version. */
  derivation?: Record<string, unknown> | null;
}

/** A candidate chunk with its distance to the query (and its full-text rank, hybrid). */
export interface CandidateRow {
  chunk_id: number;
  distance: number;
  semantic_key: string;
  document_id: string;
  chunk_no: number;
  content: string;
  metadata: Record<string, unknown>;
  text_rank?: number;
}

/**
 * The pieces of a query on exactly one version's partition. The ordering
 * expression is the partition's indexed expression (`castExpression`:
 * `(embedding::vector(d))`, here qualified by the alias), so the planner can
 * use that partition's ANN index and no other table's.
 */
function parts(v: SearchTarget, queryVector: QueryVector) {
  // A derived version's query vector goes through the transform its stored vectors went through.
  const query = queryVectorSql(v, queryVector, queryCast(v));
  const expr = sql.raw(castExpression(v, 'e'));
  const op = sql.raw(indexOperator(v));
  return {
    table: sql.raw(partitionTable(v.id)),
    distance: sql`${expr} ${op} ${query}`,
  };
}

/** Exact distance on the parent's full vectors (alias `r`): what a re-ranking version orders and reports by. */
function exactDistance(d: Derivation, alias: 'r', query: QueryVector): RawBuilder<unknown> {
  const full = sql.raw(`vector(${d.parentDimensions})`);
  return sql`(${sql.raw(alias)}.embedding::${full}) ${sql.raw(distanceOperator(d.parentMetric))} ${query}::${full}`;
}

/**
 * `--rerank K` (a derived version): one statement. The inner query takes the
 * top K from the derived partition (its ANN index, or an exact scan); the
 * outer one orders them by exact distance on the parent's partition, on the
 * full vectors, and keeps `limit`.
 */
function reranked(
  v: SearchTarget,
  d: Derivation & { rerank: number },
  query: QueryVector,
  limit: number,
  filter: MetadataFilter | undefined,
  exact: boolean,
): RawBuilder<CandidateRow> {
  const p = parts(v, query);
  const k = Math.max(d.rerank, limit);
  const inner = sql`
    select e.chunk_id, ${p.distance} as distance
    from ${p.table} e join document_chunks c on c.id = e.chunk_id
    where c.retired_at is null ${filterClause(filter)}`;
  const candidates = exact
    ? sql`select * from (${inner} offset 0) as exact_scan order by distance, chunk_id limit ${k}`
    : sql`${inner} order by distance limit ${k}`;
  return sql<CandidateRow>`
    with candidates as materialized (${candidates})
    select r.chunk_id, ${exactDistance(d, 'r', query)} as distance,
           c.semantic_key, c.document_id, c.chunk_no, c.content, c.metadata
    from candidates k
    join ${sql.raw(partitionTable(d.parentId))} r on r.chunk_id = k.chunk_id
    join document_chunks c on c.id = k.chunk_id
    order by distance, r.chunk_id
    limit ${limit}`;
}

function filterClause(filter: MetadataFilter | undefined): RawBuilder<unknown> {
  return filter ? sql`and c.metadata @> ${JSON.stringify(filter)}::jsonb` : sql``;
}

/**
 * Nearest live chunks by the version's metric, optionally filtered on
 * metadata (GIN, `@>`). `exact`: the rows are produced behind an `offset 0`
 * fence and sorted outside it, so no index can serve the ordering: an exact
 * scan of the (filtered) partition, whatever the planner settings.
 */
export function vectorCandidates(
  v: SearchTarget,
  query: QueryVector,
  limit: number,
  filter?: MetadataFilter,
  exact = false,
): RawBuilder<CandidateRow> {
  const d = derivationOf(v);
  if (d?.rerank) return reranked(v, { ...d, rerank: d.rerank }, query, limit, filter, exact);
  const p = parts(v, query);
  const rows = sql`
    select e.chunk_id, ${p.distance} as distance,
           c.semantic_key, c.document_id, c.chunk_no, c.content, c.metadata
    from ${p.table} e
    join document_chunks c on c.id = e.chunk_id
    where c.retired_at is null ${filterClause(filter)}`;
  if (exact) {
    return sql<CandidateRow>`select * from (${rows} offset 0) as exact_scan order by distance, chunk_id limit ${limit}`;
  }
  // `order by distance` names the output column: the same indexed expression,
  // without sending the query vector a second time.
  return sql<CandidateRow>`${rows} order by distance limit ${limit}`;
}

/**
 * Full-text candidates (`websearch_to_tsquery('english', q)`, ranked by
 * `ts_rank_cd`) among the live chunks that have a vector in this version
 * (so a hybrid result never holds a chunk the version cannot serve), with
 * their vector distance.
 */
export function textCandidates(
  v: SearchTarget,
  query: QueryVector,
  text: string,
  limit: number,
  filter?: MetadataFilter,
): RawBuilder<CandidateRow> {
  const p = parts(v, query);
  // A re-ranking version reports its parent's exact distances, on this side too.
  const d = derivationOf(v);
  const distance = d?.rerank ? exactDistance(d, 'r', query) : p.distance;
  const parentJoin = d?.rerank ? sql`join ${sql.raw(partitionTable(d.parentId))} r on r.chunk_id = c.id` : sql``;
  return sql<CandidateRow>`
    select e.chunk_id, ${distance} as distance, ts_rank_cd(c.content_tsv, tq.q) as text_rank,
           c.semantic_key, c.document_id, c.chunk_no, c.content, c.metadata
    from document_chunks c
    join ${p.table} e on e.chunk_id = c.id ${parentJoin}
    cross join websearch_to_tsquery('english', ${text}) as tq(q)
    where c.content_tsv @@ tq.q and c.retired_at is null ${filterClause(filter)}
    order by text_rank desc, c.id
    limit ${limit}`;
}
