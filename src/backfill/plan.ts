import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/index.js';
import { partitionTable } from '../partitions/index.js';
import { liveVersionIds } from '../versions/index.js';
import { failpoint } from '../util/index.js';

/** Key of the transaction advisory lock that serialises planning per version. */
const PLAN_LOCK = 0x656d6270; // "embp"

/**
 * Put every text that a live chunk of this version still lacks, and that is
 * in no open batch, into new batches of `batchSize` distinct texts (in chunk
 * order). Safe to run from many workers at once: planning holds a
 * per-version transaction lock, and a text is in at most one open batch
 * (online, or a live Batch API job).
 * Returns the number of batches created.
 */
export async function planBatches(db: Kysely<DB>, versionId: number, batchSize: number): Promise<number> {
  const table = sql.raw(partitionTable(versionId));
  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(${PLAN_LOCK}, ${versionId})`.execute(trx);
    const base = await sql<{ g: number | null }>`
      select max(plan_group) as g from backfill_batches where embedding_version_id = ${versionId}`.execute(trx);
    const offset = Number(base.rows[0]?.g ?? -1) + 1;
    const res = await sql<{ n: number }>`
      with missing as (
        select c.content_sha256, min(c.id) as first_id
        from document_chunks c
        where c.retired_at is null
          and not exists (select 1 from ${table} e where e.chunk_id = c.id)
        group by c.content_sha256
      ), held as (
        -- texts in an open batch, or in a live Batch API job (that job's: backfill --batch-api)
        select i.content_sha256 from backfill_items i join backfill_batches b on b.id = i.batch_id
        where i.embedding_version_id = ${versionId} and b.status <> 'done'
        union
        select bi.content_sha256 from batch_api_items bi join batch_api_jobs j on j.id = bi.job_id
        where bi.embedding_version_id = ${versionId} and j.status <> 'collected'
      ), fresh as (
        -- anti-joins, not correlated NOT EXISTS: Citus plans these (migrate/citus.ts)
        select m.content_sha256, m.first_id from missing m left join held h on h.content_sha256 = m.content_sha256
        where h.content_sha256 is null
      ), numbered as (
        select content_sha256, ${offset}::bigint + (row_number() over (order by first_id) - 1) / ${batchSize} as grp
        from fresh
      ), batches as (
        insert into backfill_batches (embedding_version_id, plan_group, texts)
        select ${versionId}, grp, count(*) from numbered group by grp
        returning id, plan_group
      ), items as (
        insert into backfill_items (embedding_version_id, content_sha256, batch_id)
        select ${versionId}, n.content_sha256, b.id from numbered n join batches b on b.plan_group = n.grp
        on conflict (embedding_version_id, content_sha256) do update set batch_id = excluded.batch_id
        returning 1
      )
      select (select count(*) from batches) as n, (select count(*) from items) as items`.execute(trx);
    failpoint('backfill.plan'); // planned, not yet committed
    return Number(res.rows[0]?.n ?? 0);
  });
}

/**
 * A batch whose workers kept dying (kill -9, OOM) used up its attempts
 * without ever failing cleanly: set it aside like a failed one, so it is
 * reported and requeued instead of staying pending and unclaimable.
 */
export async function setAsideExhausted(db: Kysely<DB>, versionId: number, maxAttempts: number): Promise<number> {
  const r = await sql`
    update backfill_batches
    set status = 'failed', locked_by = null, locked_until = null, updated_at = now(),
        last_error = coalesce(last_error || '; ', '') || 'lease expired ' || attempts || ' times (its workers died?)'
    where embedding_version_id = ${versionId} and status = 'pending' and attempts >= ${maxAttempts}
      and (locked_until is null or locked_until < now())`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

/** Put batches set aside in an earlier run back in the queue (a new run retries them). */
export async function requeueFailed(db: Kysely<DB>, versionId: number): Promise<number> {
  const r = await db
    .updateTable('backfill_batches')
    .set({ status: 'pending', attempts: 0, locked_by: null, locked_until: null, updated_at: sql`now()` })
    .where('embedding_version_id', '=', versionId)
    .where('status', '=', 'failed')
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

export interface Backlog {
  /** Live chunks without a vector in this version. */
  missingChunks: number;
  /** Distinct texts among them. */
  missingTexts: number;
  /** Of those, texts that already have a vector for the same encoder identity (free). */
  reusableTexts: number;
  /** Chunks whose text is reusable. */
  reusableChunks: number;
}

/** How much work a backfill of this version has left (read only). */
export async function backlog(db: Kysely<DB>, versionId: number, identity: string): Promise<Backlog> {
  const table = sql.raw(partitionTable(versionId));
  const sameEncoder = await liveVersionIds(db, { encoderIdentity: identity });
  const r = await sql<{ chunks: number; texts: number; rtexts: number; rchunks: number }>`
    with missing as (
      select c.id, c.content_sha256 from document_chunks c
      where c.retired_at is null and not exists (select 1 from ${table} e where e.chunk_id = c.id)
    ), texts as (
      select content_sha256, count(*) as n from missing group by content_sha256
    ), reusable as (
      select t.content_sha256, t.n from texts t
      where t.content_sha256 in (
        select c2.content_sha256 from document_chunks c2
        join chunk_embeddings e2 on e2.chunk_id = c2.id
        where e2.embedding_version_id = any(${sameEncoder}::int[]))
    )
    select (select count(*) from missing) as chunks, (select count(*) from texts) as texts,
           (select count(*) from reusable) as rtexts, (select coalesce(sum(n), 0) from reusable) as rchunks`.execute(
    db,
  );
  const row = r.rows[0]!;
  return {
    missingChunks: Number(row.chunks),
    missingTexts: Number(row.texts),
    reusableTexts: Number(row.rtexts),
    reusableChunks: Number(row.rchunks),
  };
}

/** The texts a backfill would send, page by page (for token counts in a dry run). */
export async function* textsToEmbed(
  db: Kysely<DB>,
  versionId: number,
  identity: string,
  pageSize = 2000,
): AsyncGenerator<string[]> {
  const table = sql.raw(partitionTable(versionId));
  const sameEncoder = await liveVersionIds(db, { encoderIdentity: identity });
  let after = Buffer.alloc(0);
  for (;;) {
    const page = await sql<{ sha: Uint8Array; content: string }>`
      select distinct on (c.content_sha256) c.content_sha256 as sha, c.content
      from document_chunks c
      -- texts an identical encoder embedded already: an anti-join on a derived table (Citus cannot
      -- correlate two distributed tables on content_sha256, which is not their distribution column)
      left join (
        select distinct c2.content_sha256 from document_chunks c2
        join chunk_embeddings e2 on e2.chunk_id = c2.id
        where c2.content_sha256 > ${after} and e2.embedding_version_id = any(${sameEncoder}::int[])
      ) r on r.content_sha256 = c.content_sha256
      where c.retired_at is null and c.content_sha256 > ${after} and r.content_sha256 is null
        and not exists (select 1 from ${table} e where e.chunk_id = c.id)
      order by c.content_sha256
      limit ${pageSize}`.execute(db);
    if (page.rows.length === 0) return;
    yield page.rows.map((r) => r.content);
    after = Buffer.from(page.rows[page.rows.length - 1]!.sha);
  }
}
