/**
 * The synthetic half of bench/derive.ts: a Matryoshka-like set, where the
 * leading dimensions carry most of the variance (dimension j scaled by
 * 1/sqrt(j+1)) and vectors form clusters, so that a prefix still ranks
 * well and the sign bits of dense vectors carry real information — unlike
 * the sparse, hashed `hash:` vectors. No encoder: the vectors are written
 * straight into a version's partition and the queries go through the same
 * search SQL (`runQuery`) the searcher runs, with the vector given.
 */
import { sql } from 'kysely';
import type { Db } from '../src/db/open.js';
import { buildIndex } from '../src/backfill/index.js';
import { formatVectorText } from '../src/db/vector-codec.js';
import { QueryVector } from '../src/db/query-vector.js';
import { runQuery } from '../src/search/run-query.js';
import { requireVersion } from '../src/versions/store.js';
import { silentLogger } from '../src/log/logger.js';
import { freshPartition, seedChunks } from './lib.js';

/** xorshift32 → standard normal (Box–Muller). */
function gaussian(seed: number): () => number {
  let s = seed >>> 0 || 1;
  const u = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

function unit(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n);
  return v.map((x) => x / n);
}

export interface SyntheticSet {
  vectors: Float32Array[];
  queries: Float32Array[];
}

/** `n` vectors of `dims` in `clusters` clusters, and `nq` queries near random members. */
export function matryoshkaLike(n: number, dims: number, nq: number, clusters = 200, seed = 7): SyntheticSet {
  const g = gaussian(seed);
  const scale = Array.from({ length: dims }, (_, j) => 1 / Math.sqrt(j + 1));
  const centers = Array.from({ length: clusters }, () => Float32Array.from(scale, (s) => g() * s));
  const near = (c: Float32Array, spread: number) => unit(c.map((x, j) => x + g() * scale[j]! * spread));
  const vectors = Array.from({ length: n }, (_, i) => near(centers[i % clusters]!, 0.6));
  const queries = Array.from({ length: nq }, (_, i) => near(vectors[(i * 7919) % n]!, 0.4));
  return { vectors, queries };
}

/** Write the set into a fresh 'ready' parent version (HNSW built), named `key`. */
export async function loadSynthetic(db: Db, key: string, set: SyntheticSet): Promise<void> {
  const dims = set.vectors[0]!.length;
  const ids = await seedChunks(db, set.vectors.length);
  const v = await freshPartition(db, dims, 'hnsw');
  await db.kysely.updateTable('embedding_versions').set({ version_key: key }).where('id', '=', v.id).execute();
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const texts = chunk.map((id) => formatVectorText(set.vectors[id - 1]!));
    await sql`insert into ${sql.raw(v.table)} (chunk_id, embedding_version_id, embedding)
      select u.id, ${v.id}, u.t::vector from unnest(${chunk}::bigint[], ${texts}::text[]) as u(id, t)`.execute(
      db.kysely,
    );
  }
  await buildIndex(db, { ...v, version_key: key }, { logger: silentLogger() });
  await db.kysely.updateTable('embedding_versions').set({ state: 'ready' }).where('id', '=', v.id).execute();
}

/** One search's SQL (the searcher's own) with a given vector: chunk ids and milliseconds. */
export async function searchVector(
  db: Db,
  key: string,
  vector: Float32Array,
  k: number,
  exact = false,
): Promise<{ ids: number[]; ms: number }> {
  const v = await requireVersion(db.kysely, key);
  const rerank = (v.derivation as { rerank?: number | null } | null)?.rerank ?? 0;
  return db.kysely.connection().execute(async (conn) => {
    const t = performance.now();
    const out = await runQuery(conn, {
      target: v,
      index: { kind: v.index_kind },
      vector: new QueryVector(vector),
      limit: k,
      knobs: rerank ? { efSearch: Math.max(200, rerank) } : {},
      exact,
    });
    return { ids: out.vector.map((r) => r.chunk_id), ms: performance.now() - t };
  });
}
