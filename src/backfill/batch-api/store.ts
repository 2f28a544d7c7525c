/**
 * The Batch API's records (migration 0006): jobs, the texts each custom id
 * covers, and attempts per text. Every remote call is bracketed by a write
 * here, so a rerun knows where each job stopped.
 */
import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/index.js';
import { parseWorkerId, pidReused } from '../../util/index.js';
import type { RemoteBatch } from '../../encoders/index.js';

/** Statuses of a job that still holds its texts (everything but `collected`). */
export const LOCAL_STEPS = ['preparing', 'uploaded', 'creating'] as const;
export const REMOTE_LIVE = ['validating', 'in_progress', 'finalizing', 'cancelling'] as const;

export interface JobRow {
  id: number;
  status: string;
  remote_status: string | null;
  tag: string;
  input_file_id: string | null;
  batch_id: string | null;
  output_file_id: string | null;
  error_file_id: string | null;
  requests: number;
  texts: number;
  tokens: number;
  completed_requests: number;
  failed_requests: number;
  billed_tokens: number;
  texts_written: number;
  texts_failed: number;
  last_error: string | null;
  created_at: Date;
  locked_by: string | null;
}

export interface NewItem {
  customId: string;
  position: number;
  sha: Buffer;
}

type Q = Kysely<DB>;

export async function insertJob(
  trx: Q,
  versionId: number,
  job: { tag: string; requests: number; texts: number; tokens: number; bytes: number },
  items: NewItem[],
): Promise<number> {
  const r = await sql<{ id: number }>`
    insert into batch_api_jobs (embedding_version_id, tag, requests, texts, tokens, bytes)
    values (${versionId}, ${job.tag}, ${job.requests}, ${job.texts}, ${job.tokens}, ${job.bytes})
    returning id`.execute(trx);
  const id = Number(r.rows[0]!.id);
  for (let i = 0; i < items.length; i += 5000) {
    const part = items.slice(i, i + 5000);
    await sql`
      insert into batch_api_items (job_id, custom_id, position, embedding_version_id, content_sha256)
      select ${id}, c, p, ${versionId}, s
      from unnest(${part.map((x) => x.customId)}::text[], ${part.map((x) => x.position)}::int[],
                  ${part.map((x) => x.sha)}::bytea[]) as t(c, p, s)`.execute(trx);
    await sql`
      insert into batch_api_texts (embedding_version_id, content_sha256, attempts)
      select ${versionId}, s, 1 from unnest(${part.map((x) => x.sha)}::bytea[]) as t(s)
      on conflict (embedding_version_id, content_sha256)
      do update set attempts = batch_api_texts.attempts + 1, updated_at = excluded.updated_at`.execute(trx);
  }
  return id;
}

export async function listJobs(db: Q, versionId: number, opts: { open?: boolean } = {}): Promise<JobRow[]> {
  const r = await sql<JobRow>`
    select id, status, remote_status, tag, input_file_id, batch_id, output_file_id, error_file_id, requests, texts,
           tokens, completed_requests, failed_requests, billed_tokens, texts_written, texts_failed, last_error,
           created_at, locked_by
    from batch_api_jobs
    where embedding_version_id = ${versionId} and (${opts.open !== true} or status <> 'collected')
    order by id`.execute(db);
  return r.rows.map((j) => ({
    ...j,
    id: Number(j.id),
    tokens: Number(j.tokens),
    billed_tokens: Number(j.billed_tokens),
  }));
}

/**
 * Hold a job for a remote call: free, expired, or held by a process of this
 * host that is gone (a SIGKILL). False when a live process holds it.
 */
export async function claimJob(db: Q, jobId: number, worker: string, host: string, isAlive: (pid: number) => boolean) {
  const cur = await sql<{ locked_by: string | null; expired: boolean }>`
    select locked_by, coalesce(locked_until < now(), true) as expired from batch_api_jobs where id = ${jobId}`.execute(
    db,
  );
  const row = cur.rows[0];
  if (!row) return false;
  let free = row.locked_by === null || row.locked_by === worker || row.expired;
  if (!free && row.locked_by) {
    const { host: h, pid, tag } = parseWorkerId(row.locked_by);
    free = h === host && Number.isInteger(pid) && pid !== process.pid && (!isAlive(pid) || pidReused(pid, tag));
  }
  if (!free) return false;
  const r = await sql`
    update batch_api_jobs set locked_by = ${worker}, locked_until = now() + interval '10 minutes'
    where id = ${jobId} and locked_by is not distinct from ${row.locked_by}`.execute(db);
  return Number(r.numAffectedRows ?? 0) === 1;
}

export async function releaseJob(db: Q, jobId: number, worker: string): Promise<void> {
  await sql`update batch_api_jobs set locked_by = null, locked_until = null
            where id = ${jobId} and locked_by = ${worker}`.execute(db);
}

export async function setStatus(db: Q, jobId: number, status: string, fields: { fileId?: string } = {}): Promise<void> {
  await sql`
    update batch_api_jobs set status = ${status}, input_file_id = coalesce(${fields.fileId ?? null}, input_file_id),
           updated_at = now()
    where id = ${jobId}`.execute(db);
}

/** Record what the provider says of the job's batch. */
export async function recordRemote(db: Q, jobId: number, b: RemoteBatch): Promise<void> {
  const terminal = ['completed', 'failed', 'expired', 'cancelled'].includes(b.status);
  await sql`
    update batch_api_jobs
    set batch_id = ${b.id}, status = case when status = 'collected' then status else ${b.status} end,
        remote_status = ${b.status}, output_file_id = ${b.outputFileId}, error_file_id = ${b.errorFileId},
        completed_requests = ${b.requestCounts.completed}, failed_requests = ${b.requestCounts.failed},
        last_error = coalesce(${b.errors}, last_error), submitted_at = coalesce(submitted_at, now()),
        finished_at = case when ${terminal} then coalesce(finished_at, now()) else null end, updated_at = now()
    where id = ${jobId}`.execute(db);
}

export async function setJobError(db: Q, jobId: number, error: string): Promise<void> {
  await sql`update batch_api_jobs set last_error = ${error.slice(0, 2000)}, updated_at = now()
            where id = ${jobId}`.execute(db);
}

/** The job's output is written and its leftovers freed: its texts may be submitted again. */
export async function markCollected(
  db: Q,
  jobId: number,
  counts: { billedTokens: number; failed: number; error: string | null },
): Promise<void> {
  await sql`
    update batch_api_jobs
    set status = 'collected', collected_at = now(), billed_tokens = billed_tokens + ${counts.billedTokens},
        texts_failed = ${counts.failed}, last_error = coalesce(${counts.error}, last_error),
        texts_written = (select count(distinct content_sha256) from batch_api_items where job_id = ${jobId} and written),
        updated_at = now()
    where id = ${jobId}`.execute(db);
}

export async function addBilledTokens(db: Q, jobId: number, tokens: number): Promise<void> {
  if (tokens <= 0) return;
  await sql`update batch_api_jobs set billed_tokens = billed_tokens + ${tokens} where id = ${jobId}`.execute(db);
}

export interface JobItem {
  position: number;
  sha: Buffer;
  written: boolean;
}

/** custom_id → its texts, in input order. */
export async function jobItems(db: Q, jobId: number): Promise<Map<string, JobItem[]>> {
  const r = await sql<{ custom_id: string; position: number; content_sha256: Uint8Array; written: boolean }>`
    select custom_id, position, content_sha256, written from batch_api_items
    where job_id = ${jobId} order by custom_id, position`.execute(db);
  const out = new Map<string, JobItem[]>();
  for (const row of r.rows) {
    const list = out.get(row.custom_id) ?? [];
    list.push({ position: Number(row.position), sha: Buffer.from(row.content_sha256), written: row.written });
    out.set(row.custom_id, list);
  }
  return out;
}

/** The content of each text (by sha), from any chunk that holds it. */
export async function contentsOf(db: Q, shas: Buffer[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let i = 0; i < shas.length; i += 5000) {
    const r = await sql<{ sha: Uint8Array; content: string }>`
      select distinct on (content_sha256) content_sha256 as sha, content from document_chunks
      where content_sha256 = any(${shas.slice(i, i + 5000)}::bytea[])
      order by content_sha256, id`.execute(db);
    for (const row of r.rows) out.set(Buffer.from(row.sha).toString('hex'), row.content);
  }
  return out;
}

/** Texts of a collected job that were not written: their error, and set aside when out of attempts (and told so). */
export async function recordTextFailures(
  db: Q,
  versionId: number,
  failures: { sha: Buffer; error: string }[],
  setAsideAt: number | null,
): Promise<void> {
  for (let i = 0; i < failures.length; i += 5000) {
    const part = failures.slice(i, i + 5000);
    await sql`
      update batch_api_texts t
      set last_error = f.e, updated_at = now(),
          set_aside = t.set_aside or (${setAsideAt}::int is not null and t.attempts >= ${setAsideAt}::int)
      from unnest(${part.map((f) => f.sha)}::bytea[], ${part.map((f) => f.error.slice(0, 500))}::text[]) as f(s, e)
      where t.embedding_version_id = ${versionId} and t.content_sha256 = f.s`.execute(db);
  }
}

export interface TextCounts {
  /** Texts out of batch attempts (the online path takes them, or they are set aside). */
  exhausted: number;
  setAside: number;
}

/** Texts still missing in the version that used up their batch attempts. */
export async function exhaustedTexts(db: Q, versionId: number, partition: string, maxAttempts: number) {
  const r = await sql<{ exhausted: number; set_aside: number }>`
    select count(*) as exhausted, count(*) filter (where t.set_aside) as set_aside
    from batch_api_texts t
    where t.embedding_version_id = ${versionId} and (t.attempts >= ${maxAttempts} or t.set_aside)
      and exists (select 1 from document_chunks c where c.content_sha256 = t.content_sha256 and c.retired_at is null
                  and not exists (select 1 from ${sql.raw(partition)} e where e.chunk_id = c.id))`.execute(db);
  return { exhausted: Number(r.rows[0]?.exhausted ?? 0), setAside: Number(r.rows[0]?.set_aside ?? 0) } as TextCounts;
}

/** Texts of the version that open jobs hold and have not written yet (the online planner leaves them alone). */
export async function textsInOpenJobs(db: Q, versionId: number): Promise<number> {
  const r = await sql<{ n: number }>`
    select count(distinct bi.content_sha256) as n
    from batch_api_items bi join batch_api_jobs j on j.id = bi.job_id
    where bi.embedding_version_id = ${versionId} and j.status <> 'collected' and not bi.written`.execute(db);
  return Number(r.rows[0]?.n ?? 0);
}
