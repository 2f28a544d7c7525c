/**
 * The vectors a derived version's canary holds and is compared on (issue
 * 16): each vector of the parent's encoder, transformed by the same SQL
 * (`derivedQueryVector`, src/partitions/transform.ts) that transforms the
 * derived version's queries.
 */
import { sql, type Kysely } from 'kysely';
import { QueryVector, type DB } from '../../db/index.js';
import { derivationOf, derivedQueryVector, type DerivedSpec } from '../../partitions/index.js';

/**
 * The vectors a version's canary compares: the encoder's own for a stored
 * version; for a derived one, each transformed as its queries are, read back
 * as float32 (`bit`: 0 and 1). Vectors not of the parent's dimensions are
 * returned as they are, so the comparison reports the dimensions that changed.
 */
export async function canaryVectorsFor(
  db: Kysely<DB>,
  v: DerivedSpec,
  vectors: readonly Float32Array[],
): Promise<Float32Array[]> {
  const d = derivationOf(v);
  if (!d || vectors.length === 0 || vectors.some((x) => x.length !== d.parentDimensions)) return [...vectors];
  const items = vectors.map((x) => sql`(${derivedQueryVector(d, new QueryVector(x))})::text`);
  const { rows } = await sql<{ v: string }>`
    select u.v from unnest(array[${sql.join(items)}]) with ordinality as u(v, i) order by u.i`.execute(db);
  return rows.map((r) => parseStored(r.v, d.storage === 'bit'));
}

function parseStored(text: string, bits: boolean): Float32Array {
  if (bits) return Float32Array.from(text, (c) => (c === '1' ? 1 : 0));
  return Float32Array.from(JSON.parse(text) as number[]);
}
