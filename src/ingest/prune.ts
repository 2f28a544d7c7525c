import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/index.js';

const ID_SLICE = 10_000;

/**
 * Retire every live chunk of the documents not in `seen` (or count them, in
 * a dry run). The ids go to a temporary table dropped at commit, so the
 * comparison is a hashed or indexed anti-join however many there are.
 */
export async function pruneAbsent(
  trx: Kysely<DB>,
  seen: Iterable<string>,
  dryRun: boolean,
): Promise<{ documents: number; chunks: number }> {
  await sql`create temporary table embctl_ingest_seen (document_id text primary key) on commit drop`.execute(trx);
  let slice: string[] = [];
  const flush = async () => {
    if (slice.length === 0) return;
    await sql`insert into embctl_ingest_seen select unnest(${slice}::text[]) on conflict do nothing`.execute(trx);
    slice = [];
  };
  for (const id of seen) {
    slice.push(id);
    if (slice.length >= ID_SLICE) await flush();
  }
  await flush();
  await sql`analyze embctl_ingest_seen`.execute(trx);
  const absent = sql`c.retired_at is null
    and not exists (select 1 from embctl_ingest_seen s where s.document_id = c.document_id)`;
  const { rows } = dryRun
    ? await sql<{ documents: number; chunks: number }>`
        select count(distinct document_id)::int as documents, count(*)::int as chunks
        from document_chunks c where ${absent}`.execute(trx)
    : await sql<{ documents: number; chunks: number }>`
        with r as (update document_chunks c set retired_at = now(), updated_at = now() where ${absent} returning c.document_id)
        select count(distinct document_id)::int as documents, count(*)::int as chunks from r`.execute(trx);
  return rows[0] ?? { documents: 0, chunks: 0 };
}
