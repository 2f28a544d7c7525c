import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/index.js';
import { parseWorkerId, pidReused } from '../util/index.js';

export interface Lease {
  batchId: number;
  attempts: number;
  texts: number;
}

/**
 * Claim the next pending batch of a version: `FOR UPDATE SKIP LOCKED`, so
 * concurrent workers never take the same one; an expired lease is taken
 * over. Autocommitted, so the lease is visible to everyone at once.
 */
export async function claimBatch(
  db: Kysely<DB>,
  versionId: number,
  worker: string,
  leaseMs: number,
  maxAttempts: number,
): Promise<Lease | null> {
  const r = await sql<{ id: number; attempts: number; texts: number }>`
    update backfill_batches b
    set locked_by = ${worker},
        locked_until = now() + ${leaseMs} * interval '1 millisecond',
        attempts = b.attempts + 1,
        updated_at = now()
    where b.id = (
      select id from backfill_batches
      where embedding_version_id = ${versionId} and status = 'pending'
        and (locked_until is null or locked_until < now())
        and attempts < ${maxAttempts}
      order by id
      limit 1
      for update skip locked)
    returning b.id, b.attempts, b.texts`.execute(db);
  const row = r.rows[0];
  return row ? { batchId: Number(row.id), attempts: Number(row.attempts), texts: Number(row.texts) } : null;
}

/** Extend a lease; false when it is no longer ours (expired and taken over). */
export async function heartbeat(db: Kysely<DB>, lease: Lease, worker: string, leaseMs: number): Promise<boolean> {
  const r = await sql`
    update backfill_batches set locked_until = now() + ${leaseMs} * interval '1 millisecond'
    where id = ${lease.batchId} and locked_by = ${worker} and status = 'pending'`.execute(db);
  return Number(r.numAffectedRows ?? 0) === 1;
}

/**
 * Mark a batch done, in the transaction that writes its vectors; false when
 * the lease was lost (the caller must roll back: someone else owns it now).
 */
export async function completeBatch(
  trx: Kysely<DB>,
  lease: Lease,
  worker: string,
  counts: { embedded: number; reused: number; tokens: number; runId?: number },
): Promise<boolean> {
  const r = await sql`
    update backfill_batches
    set status = 'done', locked_by = null, locked_until = null, last_error = null,
        embedded = ${counts.embedded}, reused = ${counts.reused}, tokens = ${counts.tokens},
        run_id = ${counts.runId ?? null}, updated_at = now()
    where id = ${lease.batchId} and locked_by = ${worker} and status = 'pending'`.execute(trx);
  return Number(r.numAffectedRows ?? 0) === 1;
}

/** Record a failure: back to pending, or set aside as failed after `maxAttempts`. */
export async function failBatch(
  db: Kysely<DB>,
  lease: Lease,
  worker: string,
  error: string,
  maxAttempts: number,
): Promise<'retry' | 'failed' | 'lost'> {
  const r = await sql<{ status: string }>`
    update backfill_batches
    set status = case when attempts >= ${maxAttempts} then 'failed' else 'pending' end,
        locked_by = null, locked_until = null, last_error = ${error.slice(0, 2000)}, updated_at = now()
    where id = ${lease.batchId} and locked_by = ${worker}
    returning status`.execute(db);
  const s = r.rows[0]?.status;
  return s === undefined ? 'lost' : s === 'failed' ? 'failed' : 'retry';
}

/** Give a batch back untouched (graceful stop): the attempt does not count. */
export async function releaseBatch(db: Kysely<DB>, lease: Lease, worker: string): Promise<void> {
  await sql`
    update backfill_batches
    set locked_by = null, locked_until = null, attempts = greatest(attempts - 1, 0), updated_at = now()
    where id = ${lease.batchId} and locked_by = ${worker} and status = 'pending'`.execute(db);
}

/**
 * Leases held by processes of this host that are no longer alive (a
 * `kill -9`, a crash; a pid now used by another process counts as gone)
 * are freed at once instead of waiting for expiry. Worker ids are
 * `host:pid:nonce` (util/process-identity).
 */
export async function reclaimDeadLocal(
  db: Kysely<DB>,
  versionId: number,
  host: string,
  isAlive: (pid: number) => boolean,
): Promise<number> {
  const held = await sql<{ locked_by: string }>`
    select distinct locked_by from backfill_batches
    where embedding_version_id = ${versionId} and status = 'pending' and locked_by like ${host + ':%'}`.execute(db);
  let n = 0;
  for (const { locked_by } of held.rows) {
    const { pid, tag } = parseWorkerId(locked_by);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && (!isAlive(pid) || pidReused(pid, tag))) {
      const r = await sql`
        update backfill_batches set locked_until = now() - interval '1 second'
        where embedding_version_id = ${versionId} and locked_by = ${locked_by} and status = 'pending'`.execute(db);
      n += Number(r.numAffectedRows ?? 0);
    }
  }
  return n;
}

export interface BatchCounts {
  pending: number;
  leased: number;
  done: number;
  failed: number;
}

export async function batchCounts(db: Kysely<DB>, versionId: number): Promise<BatchCounts> {
  const r = await sql<{ pending: number; leased: number; done: number; failed: number }>`
    select count(*) filter (where status = 'pending' and (locked_until is null or locked_until < now())) as pending,
           count(*) filter (where status = 'pending' and locked_until >= now()) as leased,
           count(*) filter (where status = 'done') as done,
           count(*) filter (where status = 'failed') as failed
    from backfill_batches where embedding_version_id = ${versionId}`.execute(db);
  const row = r.rows[0]!;
  return {
    pending: Number(row.pending),
    leased: Number(row.leased),
    done: Number(row.done),
    failed: Number(row.failed),
  };
}
