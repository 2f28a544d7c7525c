/**
 * Submitting jobs, each step recorded before and after its remote call:
 *
 *   record job + items (preparing) → upload → record file id (uploaded)
 *   → record `creating` → batches.create → record batch id and status
 *
 * A process killed anywhere leaves a job a rerun can finish: `preparing`
 * uploads again (an orphan file costs nothing), `uploaded` creates, and
 * `creating` first looks for a batch made from its file or carrying its tag
 * (the create may have happened) and creates only when there is none. So a
 * batch is never created twice for the same texts.
 */
import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/index.js';
import type { OpenAIBatchApi, RemoteBatch } from '../../encoders/index.js';
import type { Logger } from '../../log/index.js';
import { failpoint } from '../../util/index.js';
import { jsonlOf, type PlannedFile } from './files.js';
import {
  claimJob,
  contentsOf,
  insertJob,
  jobItems,
  recordRemote,
  releaseJob,
  setStatus,
  type JobRow,
} from './store.js';

const PLAN_LOCK = 0x656d6270; // "embp": the online planner's lock, so both paths plan one at a time

export interface SubmitContext {
  db: Kysely<DB>;
  version: { id: number; version_key: string; dimensions: number; encoder_identity: string };
  api: OpenAIBatchApi;
  logger: Logger;
  worker: string;
  host: string;
  isAlive: (pid: number) => boolean;
  signal?: AbortSignal;
  actor: string;
}

/**
 * Record planned files as jobs, in one transaction under the planning lock;
 * `stillPending` re-checks inside it that no other process took the texts.
 */
export async function recordJobs(
  ctx: SubmitContext,
  files: PlannedFile[],
  stillPending: (trx: Kysely<DB>, shas: Buffer[]) => Promise<Set<string>>,
): Promise<number[]> {
  return ctx.db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(${PLAN_LOCK}, ${ctx.version.id})`.execute(trx);
    const free = await stillPending(
      trx,
      files.flatMap((f) => f.requests.flatMap((r) => r.texts.map((t) => t.sha))),
    );
    const ids: number[] = [];
    for (const f of files) {
      const items = f.requests.flatMap((r) =>
        r.texts.map((t, position) => ({ customId: r.customId, position, sha: t.sha })),
      );
      if (!items.every((x) => free.has(x.sha.toString('hex')))) continue; // taken meanwhile: planned again next pass
      const tag = `embctl-v${ctx.version.id}-${randomBytes(6).toString('hex')}`;
      ids.push(
        await insertJob(
          trx,
          ctx.version.id,
          { tag, requests: f.requests.length, texts: f.texts, tokens: f.tokens, bytes: f.bytes },
          items,
        ),
      );
    }
    return ids;
  });
}

/** Take a job through its local steps to a created batch. Returns the batch, or null when another process holds the job. */
export async function advanceJob(ctx: SubmitContext, job: JobRow): Promise<RemoteBatch | null> {
  if (!(await claimJob(ctx.db, job.id, ctx.worker, ctx.host, ctx.isAlive))) return null;
  const log = ctx.logger.child({ job: job.id });
  try {
    let status = job.status;
    let fileId = job.input_file_id;
    if (status === 'preparing') {
      const items = await jobItems(ctx.db, job.id);
      const contents = await contentsOf(
        ctx.db,
        [...items.values()].flatMap((l) => l.map((x) => x.sha)),
      );
      const content = jsonlOf(items, contents, (t) => ctx.api.requestBody(t));
      fileId = await ctx.api.upload(`${job.tag}.jsonl`, content, ctx.signal);
      failpoint('batch-api.uploaded'); // uploaded, file id not recorded
      await setStatus(ctx.db, job.id, 'uploaded', { fileId });
      log.debug({ file: fileId, bytes: content.length }, 'batch input file uploaded');
      status = 'uploaded';
    }
    if (status === 'creating') {
      const found = await ctx.api.find(
        { inputFileId: fileId ?? undefined, tag: job.tag },
        epoch(job.created_at),
        ctx.signal,
      );
      if (found) {
        await recordRemote(ctx.db, job.id, found);
        log.info({ batch: found.id }, 'found the batch an earlier run created');
        return found;
      }
      status = 'uploaded';
    }
    if (status === 'uploaded') {
      await setStatus(ctx.db, job.id, 'creating');
      failpoint('batch-api.creating'); // recorded creating, not yet created
      const b = await ctx.api.create(
        fileId!,
        { embctl_tag: job.tag, embctl_version: ctx.version.version_key },
        ctx.signal,
      );
      failpoint('batch-api.created'); // created, batch id not recorded
      await recordRemote(ctx.db, job.id, b);
      log.info({ batch: b.id, requests: job.requests, texts: job.texts }, 'batch created');
      return b;
    }
    return null;
  } finally {
    await releaseJob(ctx.db, job.id, ctx.worker).catch(() => {});
  }
}

function epoch(d: Date | string): number {
  return Math.floor(new Date(d).getTime() / 1000);
}
