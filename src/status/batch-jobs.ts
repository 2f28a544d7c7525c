import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/index.js';

/** The schema version that brought Batch API jobs (migration 0006). */
export const BATCH_API_SCHEMA = 6;

export interface BatchJobStatus {
  id: number;
  batchId: string | null;
  /** Local step, remote status, or `collected`. */
  status: string;
  remoteStatus: string | null;
  requests: number;
  texts: number;
  textsWritten: number;
  textsFailed: number;
  lastError: string | null;
}

export interface VersionBatchApi {
  jobs: BatchJobStatus[];
  /** Texts set aside after their batch attempts that still lack a vector. */
  setAside: number;
}

/** The remote batches of each version (and texts set aside), by version id. */
export async function batchApiStatus(db: Kysely<DB>): Promise<Map<number, VersionBatchApi>> {
  const jobs = await sql<{
    v: number;
    id: number;
    batch_id: string | null;
    status: string;
    remote_status: string | null;
    requests: number;
    texts: number;
    texts_written: number;
    texts_failed: number;
    last_error: string | null;
  }>`
    select embedding_version_id as v, id, batch_id, status, remote_status, requests, texts, texts_written,
           texts_failed, last_error
    from batch_api_jobs order by id`.execute(db);
  const aside = await sql<{ v: number; n: number }>`
    select t.embedding_version_id as v, count(distinct t.content_sha256) as n
    from document_chunks c join batch_api_texts t on t.content_sha256 = c.content_sha256
    where t.set_aside and c.retired_at is null
      and not exists (select 1 from chunk_embeddings e
                      where e.chunk_id = c.id and e.embedding_version_id = t.embedding_version_id)
    group by 1`.execute(db);
  const out = new Map<number, VersionBatchApi>();
  const of = (v: number) => {
    let e = out.get(v);
    if (!e) out.set(v, (e = { jobs: [], setAside: 0 }));
    return e;
  };
  for (const j of jobs.rows) {
    of(Number(j.v)).jobs.push({
      id: Number(j.id),
      batchId: j.batch_id,
      status: j.status,
      remoteStatus: j.remote_status,
      requests: j.requests,
      texts: j.texts,
      textsWritten: j.texts_written,
      textsFailed: j.texts_failed,
      lastError: j.last_error,
    });
  }
  for (const a of aside.rows) of(Number(a.v)).setAside = Number(a.n);
  return out;
}
