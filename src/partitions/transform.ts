import { sql, type RawBuilder } from 'kysely';
import type { DistanceMetric, IndexStorage, QueryVector } from '../db/index.js';

/**
 * A derived version's transform (issue 16), as stored in
 * embedding_versions.derivation. The ONE place that turns it into SQL:
 * `transformSql` computes the derived partition's stored vectors from the
 * parent's, and the query vector of every search on the derived version, so
 * the two cannot drift apart (DESIGN.md, invariants).
 */
export interface Derivation {
  parentId: number;
  parentKey: string;
  /** The parent's encoder identity: queries are embedded with the parent's encoder. */
  parentIdentity: string;
  parentDimensions: number;
  parentMetric: DistanceMetric;
  /** Dimensions kept (a prefix, renormalised) when fewer than the parent's; else the parent's. */
  dimensions: number;
  storage: IndexStorage;
  /** Re-rank the top `rerank` by exact distance on the parent's partition; null: no re-rank. */
  rerank: number | null;
}

export type VectorColumn = 'embedding' | 'embedding_half' | 'embedding_bits';

/** What SQL building needs of a version (a row of embedding_versions fits). */
export interface DerivedSpec {
  index_storage: IndexStorage;
  derivation?: Record<string, unknown> | Derivation | null;
}

function int(n: unknown, what: string, min: number, max: number): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new Error(`${what} must be an integer in [${min}, ${max}], got ${String(n)}`);
  }
  return n;
}

const STORAGES: readonly IndexStorage[] = ['vector', 'halfvec', 'bit'];
const METRICS: readonly DistanceMetric[] = ['cosine', 'l2', 'ip'];

/** The derivation of a version row, validated (identifiers and literals below come from it); null for a stored version. */
export function derivationOf(v: DerivedSpec): Derivation | null {
  const d = v.derivation as Partial<Derivation> | null | undefined;
  if (!d) return null;
  if (!STORAGES.includes(d.storage as IndexStorage)) throw new Error(`bad derivation storage ${String(d.storage)}`);
  if (!METRICS.includes(d.parentMetric as DistanceMetric))
    throw new Error(`bad derivation metric ${String(d.parentMetric)}`);
  const parentDimensions = int(d.parentDimensions, 'parent dimensions', 1, 16000);
  return {
    parentId: int(d.parentId, 'parent id', 1, 2 ** 31 - 1),
    parentKey: String(d.parentKey),
    parentIdentity: String(d.parentIdentity),
    parentDimensions,
    parentMetric: d.parentMetric as DistanceMetric,
    dimensions: int(d.dimensions, 'dimensions', 1, parentDimensions),
    storage: d.storage as IndexStorage,
    rerank: d.rerank === null || d.rerank === undefined ? null : int(d.rerank, 'rerank', 1, 10000),
  };
}

/** The column a version's partition stores its vectors in. */
export function vectorColumn(v: DerivedSpec): VectorColumn {
  const d = derivationOf(v);
  if (!d) return 'embedding';
  return d.storage === 'bit' ? 'embedding_bits' : d.storage === 'halfvec' ? 'embedding_half' : 'embedding';
}

/** The SQL type of a derived vector, e.g. `bit(1536)`. */
export function storedType(d: Derivation): string {
  return `${d.storage}(${int(d.dimensions, 'dimensions', 1, 16000)})`;
}

/**
 * The transform applied to `input`, a full-precision vector of the parent's
 * dimensions (a stored parent vector, or the query's): keep the first N
 * dimensions and renormalise (Matryoshka), then cast to the stored type
 * (`halfvec(N)`, `bit(N)` through `binary_quantize`, or `vector(N)`).
 */
export function transformSql(d: Derivation, input: RawBuilder<unknown>): RawBuilder<unknown> {
  const n = int(d.dimensions, 'dimensions', 1, 16000);
  const truncated = n < d.parentDimensions ? sql`l2_normalize(subvector(${input}, 1, ${n}))` : input;
  if (d.storage === 'bit') return sql`binary_quantize(${truncated})::${sql.raw(storedType(d))}`;
  return sql`(${truncated})::${sql.raw(storedType(d))}`;
}

/** A query vector (a parameter) for a derived version: the same transform. */
export function derivedQueryVector(d: Derivation, query: QueryVector): RawBuilder<unknown> {
  const parentType = sql.raw(`vector(${int(d.parentDimensions, 'parent dimensions', 1, 16000)})`);
  return transformSql(d, sql`${query}::${parentType}`);
}

/** Dimensions of the vector a search embeds: the parent's for a derived version. */
export function queryDimensions(v: DerivedSpec & { dimensions: number }): number {
  return derivationOf(v)?.parentDimensions ?? v.dimensions;
}

/** The SQL expression of one vector's stored size in bytes, e.g. `pg_column_size(embedding_bits)`. */
export function columnSizeSql(v: DerivedSpec): RawBuilder<unknown> {
  return sql`pg_column_size(${sql.ref(vectorColumn(v))})`;
}

/**
 * The query vector in the type of a version's indexed expression: the
 * parameter cast to `queryType` for a stored version (e.g. `vector(384)`;
 * `halfvec(n)` through `vector(n)`, the parameter's type on every path),
 * the transform of the parent-dimension parameter for a derived one.
 */
export function queryVectorSql(v: DerivedSpec, query: QueryVector, queryType: string): RawBuilder<unknown> {
  const d = derivationOf(v);
  if (d) return derivedQueryVector(d, query);
  if (queryType.startsWith('vector(')) return sql`${query}::${sql.raw(queryType)}`;
  const asVector = sql.raw(`vector(${int(query.dimensions, 'query dimensions', 1, 16000)})`);
  return sql`${query}::${asVector}::${sql.raw(queryType)}`;
}
