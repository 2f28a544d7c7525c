import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/index.js';
import type { Agreement } from './agreement.js';

export interface ShadowQueryRow {
  query: string;
  /** Kept only when the shadow config says so; the hash is always kept. */
  storeText: boolean;
  segment: string | null;
  primaryVersionId: number;
  candidateVersionId: number;
  k: number;
  primaryIds: readonly number[];
  candidateIds: readonly number[];
  agreement: Agreement;
  primaryMs: number;
  candidateMs: number;
}

export function querySha256(query: string): Buffer {
  return createHash('sha256').update(query, 'utf8').digest();
}

/** One `shadow_queries` row. */
export async function insertShadowQuery(db: Kysely<DB>, r: ShadowQueryRow): Promise<void> {
  await db
    .insertInto('shadow_queries')
    .values({
      query_sha256: querySha256(r.query),
      query_text: r.storeText ? r.query : null,
      segment: r.segment,
      primary_version_id: r.primaryVersionId,
      candidate_version_id: r.candidateVersionId,
      k: r.k,
      primary_ids: [...r.primaryIds],
      candidate_ids: [...r.candidateIds],
      overlap_at_k: r.agreement.overlapAtK,
      jaccard: r.agreement.jaccard,
      rbo: r.agreement.rbo,
      primary_ms: r.primaryMs,
      candidate_ms: r.candidateMs,
    })
    .execute();
}

/** Add a process's dropped/failed counts to the candidate's current hour. */
export async function addShadowDrops(
  db: Kysely<DB>,
  candidateVersionId: number,
  dropped: number,
  failed: number,
): Promise<void> {
  if (dropped === 0 && failed === 0) return;
  await sql`
    insert into shadow_drops (candidate_version_id, bucket_start, dropped, failed)
    values (${candidateVersionId}, date_trunc('hour', now()), ${dropped}, ${failed})
    on conflict (candidate_version_id, bucket_start) do update
    set dropped = shadow_drops.dropped + excluded.dropped, failed = shadow_drops.failed + excluded.failed`.execute(db);
}
