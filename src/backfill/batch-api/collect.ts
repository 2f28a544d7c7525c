/**
 * Collecting a finished job: its output file is streamed and every line is
 * checked (JSON, a custom id of this job, status 200, one vector per text,
 * the version's dimensions, finite numbers), then written through the
 * backfill's writer (binary COPY) in transactions that also mark the texts
 * written, so a line read twice (a duplicate, a rerun after a cut-off
 * download) is written once. The error file and the lines that are missing
 * or wrong leave their texts unwritten: they are submitted again later.
 */
import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/index.js';
import { validateEmbeddings, type OpenAIBatchApi } from '../../encoders/index.js';
import type { Logger } from '../../log/index.js';
import { copyBinaryWriter, encodeRows, partitionTable, type EmbeddingRow } from '../../partitions/index.js';
import { failpoint } from '../../util/index.js';
import { jobItems, markCollected, recordTextFailures, setJobError, type JobItem, type JobRow } from './store.js';

export interface CollectContext {
  db: Kysely<DB>;
  version: { id: number; version_key: string; dimensions: number; encoder_identity: string };
  api: OpenAIBatchApi;
  logger: Logger;
  /** Set aside a failed text at this many attempts (null: never; the online path takes it). */
  setAsideAt: number | null;
}

export interface Collected {
  texts: number;
  chunks: number;
  billedTokens: number;
  failed: number;
  problems: string[];
  /** False when the job could not be read to the end (a rerun continues). */
  done: boolean;
}

interface Ready {
  customId: string;
  items: JobItem[];
  vectors: Float32Array[];
  tokens: number;
}

const FLUSH_TEXTS = 512;

export async function collectJob(ctx: CollectContext, job: JobRow): Promise<Collected> {
  const items = await jobItems(ctx.db, job.id);
  const errors = new Map<string, string>();
  const out: Collected = { texts: 0, chunks: 0, billedTokens: 0, failed: 0, problems: [], done: false };
  const where = `batch ${job.batch_id ?? '?'} (job ${job.id})`;
  let pending: Ready[] = [];
  let pendingTexts = 0;
  const flush = async () => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    pendingTexts = 0;
    const w = await writeReady(ctx, job.id, batch);
    out.texts += w.texts;
    out.chunks += w.chunks;
    out.billedTokens += w.tokens;
  };
  try {
    if (job.output_file_id) {
      let n = 0;
      for await (const line of ctx.api.lines(job.output_file_id)) {
        n++;
        const r = readOutputLine(line, items, ctx.version.dimensions);
        if ('problem' in r) {
          out.problems.push(`${where}, output line ${n}: ${r.problem}`);
          if (r.customId) errors.set(r.customId, r.problem);
          continue;
        }
        const todo = r.items.filter((x) => !x.written);
        if (todo.length === 0) continue; // a duplicate line, or written by an earlier pass
        for (const x of todo) x.written = true; // within this pass: a duplicate later in the file is skipped
        pending.push({
          customId: r.customId,
          items: todo,
          vectors: todo.map((x) => r.vectors[x.position]!),
          tokens: r.tokens,
        });
        pendingTexts += todo.length;
        if (pendingTexts >= FLUSH_TEXTS) await flush();
      }
      await flush();
    }
    if (job.error_file_id) {
      for await (const line of ctx.api.lines(job.error_file_id)) {
        const e = readErrorLine(line);
        if (e) errors.set(e.customId, e.error);
      }
    }
  } catch (e) {
    try {
      await flush(); // complete lines read before the cut are good
    } catch (f) {
      out.problems.push(`${where}: ${String((f as Error)?.message ?? f)}`);
    }
    const msg = `${where}: ${String((e as Error)?.message ?? e)}; run the command again to read the rest`;
    await setJobError(ctx.db, job.id, msg);
    out.problems.push(msg);
    return out;
  }
  // Whatever is not written now failed: the error file's reason, or a missing or bad line.
  const after = await jobItems(ctx.db, job.id);
  const failures: { sha: Buffer; error: string }[] = [];
  const status = job.remote_status ?? job.status;
  for (const [customId, list] of after) {
    const why =
      errors.get(customId) ??
      (status === 'completed' ? 'no line in the output or error file' : `the batch ended ${status}`);
    for (const x of list) if (!x.written) failures.push({ sha: x.sha, error: why });
  }
  await recordTextFailures(ctx.db, ctx.version.id, failures, ctx.setAsideAt);
  out.failed = failures.length;
  const firstError = failures[0] ? `${failures.length} texts not embedded (first: ${failures[0].error})` : null;
  await markCollected(ctx.db, job.id, { billedTokens: 0, failed: failures.length, error: firstError });
  out.done = true;
  return out;
}

type LineResult =
  | { customId: string; items: JobItem[]; vectors: Float32Array[]; tokens: number }
  | { problem: string; customId?: string };

/** One output line, checked; never throws. */
export function readOutputLine(line: string, items: Map<string, JobItem[]>, dimensions: number): LineResult {
  let obj: { custom_id?: unknown; response?: { status_code?: unknown; body?: unknown } | null; error?: unknown };
  try {
    obj = JSON.parse(line);
  } catch {
    const id = /"custom_id"\s*:\s*"([^"]{1,64})"/.exec(line)?.[1];
    return { problem: `not valid JSON (${line.length} characters)`, customId: id && items.has(id) ? id : undefined };
  }
  const customId = typeof obj?.custom_id === 'string' ? obj.custom_id : undefined;
  if (customId === undefined) return { problem: 'no custom_id' };
  const mine = items.get(customId);
  if (!mine) return { problem: `custom_id ${JSON.stringify(customId.slice(0, 64))} is not one of this batch's` };
  const status = obj.response?.status_code;
  if (status !== 200) {
    return { problem: `custom_id ${customId} answered ${String(status ?? 'no response')}`, customId };
  }
  const body = obj.response?.body as { usage?: { prompt_tokens?: unknown } } | undefined;
  try {
    const { vectors } = validateEmbeddings(body, { count: mine.length, dimensions });
    const t = body?.usage?.prompt_tokens;
    return { customId, items: mine, vectors, tokens: typeof t === 'number' && t >= 0 ? t : 0 };
  } catch (e) {
    return { problem: `custom_id ${customId} returned ${String((e as Error).message)}`, customId };
  }
}

/** An error file line: its custom id and reason, or null when it cannot be read. */
export function readErrorLine(line: string): { customId: string; error: string } | null {
  try {
    const obj = JSON.parse(line) as {
      custom_id?: unknown;
      response?: { status_code?: number; body?: { error?: { message?: string } } } | null;
      error?: { code?: string; message?: string } | null;
    };
    if (typeof obj.custom_id !== 'string') return null;
    const e = obj.error ?? obj.response?.body?.error;
    const status = obj.response?.status_code;
    const code = (obj.error as { code?: string } | null)?.code;
    const msg = `${status ? `${status} ` : ''}${code ? `${code}: ` : ''}${e?.message ?? 'failed'}`;
    return { customId: obj.custom_id, error: msg.slice(0, 300) };
  } catch {
    return null;
  }
}

/**
 * Write checked lines: every live chunk of each text that lacks a vector
 * gets it (reuse by content sha256), in one transaction that marks the
 * texts written only if no one else did.
 */
async function writeReady(
  ctx: CollectContext,
  jobId: number,
  ready: Ready[],
): Promise<{ texts: number; chunks: number; tokens: number }> {
  const bySha = new Map<string, Float32Array>();
  for (const r of ready) r.items.forEach((x, i) => bySha.set(x.sha.toString('hex'), r.vectors[i]!));
  const shas = [...bySha.keys()].map((h) => Buffer.from(h, 'hex'));
  const table = sql.raw(partitionTable(ctx.version.id));
  const chunks = await sql<{ id: number; sha: Uint8Array }>`
    select c.id, c.content_sha256 as sha from document_chunks c
    where c.content_sha256 = any(${shas}::bytea[]) and c.retired_at is null
      and not exists (select 1 from ${table} e where e.chunk_id = c.id)
    order by c.id`.execute(ctx.db);
  const rows: EmbeddingRow[] = chunks.rows.map((c) => ({
    chunkId: Number(c.id),
    vector: bySha.get(Buffer.from(c.sha).toString('hex'))!,
  }));
  // Dimensions, NaN and ±Infinity are refused here, naming the chunk and the version.
  const encoded = await encodeRows(ctx.version, rows);
  const tokens = ready.reduce((a, r) => a + r.tokens, 0);
  const texts = ready.reduce((a, r) => a + r.items.length, 0);
  await ctx.db.transaction().execute(async (trx) => {
    const marked = await sql`
      update batch_api_items b set written = true
      from unnest(${ready.flatMap((r) => r.items.map(() => r.customId))}::text[],
                  ${ready.flatMap((r) => r.items.map((x) => x.position))}::int[]) as t(c, p)
      where b.job_id = ${jobId} and b.custom_id = t.c and b.position = t.p and not b.written`.execute(trx);
    if (Number(marked.numAffectedRows ?? 0) !== texts) {
      throw new Error(
        `job ${jobId}: some of these texts were written meanwhile by another process; nothing was written`,
      );
    }
    await copyBinaryWriter.writeEncoded(trx, ctx.version, encoded);
    await sql`update batch_api_jobs set billed_tokens = billed_tokens + ${tokens},
              texts_written = texts_written + ${texts}, updated_at = now() where id = ${jobId}`.execute(trx);
    failpoint('batch-api.write'); // written, not yet committed
  });
  return { texts, chunks: rows.length, tokens };
}
