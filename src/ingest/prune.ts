import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/index.js';

/**
 * Retire every live chunk of the documents that are not in this ingest's
 * input (or count them, in a dry run). The input's ids are in the temporary
 * table the validation pass filled (SeenIds, same connection), so the
 * comparison is an indexed anti-join however many there are.
 */
export async function pruneAbsent(trx: Kysely<DB>, dryRun: boolean): Promise<{ documents: number; chunks: number }> {
  // An anti-join in an uncorrelated subquery: Citus cannot join a distributed
  // table to a temporary one in a correlated NOT EXISTS; it can plan this.
  const absent = sql`c.retired_at is null and c.id in (
    select c2.id from document_chunks c2 left join embctl_ingest_seen s on s.document_id = c2.document_id
    where s.document_id is null and c2.retired_at is null)`;
  const { rows } = dryRun
    ? await sql<{ documents: number; chunks: number }>`
        select count(distinct document_id)::int as documents, count(*)::int as chunks
        from document_chunks c where ${absent}`.execute(trx)
    : await sql<{ documents: number; chunks: number }>`
        with r as (update document_chunks c set retired_at = now(), updated_at = now() where ${absent} returning c.document_id)
        select count(distinct document_id)::int as documents, count(*)::int as chunks from r`.execute(trx);
  return rows[0] ?? { documents: 0, chunks: 0 };
}
