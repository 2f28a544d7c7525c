import { sql, type RawBuilder } from 'kysely';
import type { DistanceMetric, IndexStorage } from '../db/index.js';
import { distanceOperator, partitionTable, queryCast } from '../partitions/index.js';
import type { MetadataFilter } from './filters.js';

/** What a query needs of a version (a row of embedding_versions fits). */
export interface SearchTarget {
  id: number;
  dimensions: number;
  distance_metric: DistanceMetric;
  index_storage: IndexStorage;
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
function parts(v: SearchTarget, queryVectorText: string) {
  const cast = sql.raw(queryCast(v));
  const expr = sql.raw(`(e.embedding::${queryCast(v)})`);
  const op = sql.raw(distanceOperator(v.distance_metric));
  return {
    table: sql.raw(partitionTable(v.id)),
    distance: sql`${expr} ${op} ${queryVectorText}::${cast}`,
  };
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
  queryVectorText: string,
  limit: number,
  filter?: MetadataFilter,
  exact = false,
): RawBuilder<CandidateRow> {
  const p = parts(v, queryVectorText);
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
  queryVectorText: string,
  text: string,
  limit: number,
  filter?: MetadataFilter,
): RawBuilder<CandidateRow> {
  const p = parts(v, queryVectorText);
  return sql<CandidateRow>`
    select e.chunk_id, ${p.distance} as distance, ts_rank_cd(c.content_tsv, tq.q) as text_rank,
           c.semantic_key, c.document_id, c.chunk_no, c.content, c.metadata
    from document_chunks c
    join ${p.table} e on e.chunk_id = c.id
    cross join websearch_to_tsquery('english', ${text}) as tq(q)
    where c.content_tsv @@ tq.q and c.retired_at is null ${filterClause(filter)}
    order by text_rank desc, c.id
    limit ${limit}`;
}
