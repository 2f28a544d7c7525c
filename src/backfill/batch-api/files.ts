/**
 * Splitting the texts still to embed into Batch API input files within the
 * provider's limits (requests per file, inputs per request and per file,
 * tokens per request, file bytes, enqueued tokens), and writing a file's
 * JSONL from its recorded items (the same bytes on a rerun).
 */
import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/index.js';
import { InputError } from '../../errors.js';
import { partitionTable } from '../../partitions/index.js';
import { liveVersionIds } from '../../versions/index.js';
import type { BatchApiLimits } from './types.js';

export interface PendingText {
  sha: Buffer;
  content: string;
  tokens: number;
}

export interface PlannedRequest {
  customId: string;
  texts: PendingText[];
}

export interface PlannedFile {
  requests: PlannedRequest[];
  texts: number;
  tokens: number;
  bytes: number;
}

/**
 * Texts a live chunk of the version lacks, that no identical encoder has
 * embedded already (those are reused), that are in no live batch job and no
 * open online batch, and that have batch attempts left; in chunk order.
 */
export async function pendingTexts(
  db: Kysely<DB>,
  v: { id: number; encoder_identity: string },
  maxAttempts: number,
  limit: number,
): Promise<{ sha: Buffer; content: string }[]> {
  const table = sql.raw(partitionTable(v.id));
  const sameEncoder = await liveVersionIds(db, { encoderIdentity: v.encoder_identity });
  const r = await sql<{ sha: Uint8Array; content: string }>`
    with missing as (
      select c.content_sha256, min(c.id) as first_id
      from document_chunks c
      where c.retired_at is null and not exists (select 1 from ${table} e where e.chunk_id = c.id)
      group by c.content_sha256
    )
    select m.content_sha256 as sha, (select content from document_chunks where id = m.first_id) as content
    from missing m
    where not exists (
        select 1 from batch_api_items bi join batch_api_jobs j on j.id = bi.job_id
        where bi.embedding_version_id = ${v.id} and bi.content_sha256 = m.content_sha256 and j.status <> 'collected')
      and not exists (
        select 1 from backfill_items i join backfill_batches b on b.id = i.batch_id
        where i.embedding_version_id = ${v.id} and i.content_sha256 = m.content_sha256 and b.status <> 'done')
      and not exists (
        select 1 from batch_api_texts t
        where t.embedding_version_id = ${v.id} and t.content_sha256 = m.content_sha256
          and (t.attempts >= ${maxAttempts} or t.set_aside))
      and not exists (
        select 1 from document_chunks c2 join chunk_embeddings e2 on e2.chunk_id = c2.id
        where c2.content_sha256 = m.content_sha256 and e2.embedding_version_id = any(${sameEncoder}::int[]))
    order by m.first_id
    limit ${limit}`.execute(db);
  return r.rows.map((x) => ({ sha: Buffer.from(x.sha), content: x.content }));
}

/** One JSONL line of a request. */
export function requestLine(customId: string, body: Record<string, unknown>): string {
  return JSON.stringify({ custom_id: customId, method: 'POST', url: '/v1/embeddings', body }) + '\n';
}

/**
 * Greedy, in order: requests take texts up to `inputsPerRequest` and the
 * encoder's tokens per request; files take requests up to `requestsPerFile`,
 * `inputsPerFile` and `fileBytes`; files stop at `tokenBudget` (what the
 * enqueued-token limit leaves). Returns the files (texts past the budget are
 * left for later). A request larger than `fileBytes` on its own is an
 * InputError: no file could hold it.
 */
export function planFiles(
  texts: PendingText[],
  limits: BatchApiLimits & { maxRequestTokens: number },
  tokenBudget: number,
  bodyOf: (texts: string[]) => Record<string, unknown>,
): PlannedFile[] {
  const files: PlannedFile[] = [];
  let file: PlannedFile = { requests: [], texts: 0, tokens: 0, bytes: 0 };
  let req: PendingText[] = [];
  let reqTokens = 0;
  let budget = tokenBudget;
  const closeFile = () => {
    if (file.requests.length > 0) files.push(file);
    file = { requests: [], texts: 0, tokens: 0, bytes: 0 };
  };
  const closeRequest = (): boolean => {
    if (req.length === 0) return true;
    const customId = `r${file.requests.length}`;
    let bytes = Buffer.byteLength(requestLine(customId, bodyOf(req.map((t) => t.content))));
    const full =
      file.requests.length >= limits.requestsPerFile ||
      file.texts + req.length > limits.inputsPerFile ||
      file.bytes + bytes > limits.fileBytes;
    if (full) {
      closeFile();
      bytes = Buffer.byteLength(requestLine('r0', bodyOf(req.map((t) => t.content))));
    }
    if (bytes > limits.fileBytes) {
      throw new InputError(
        `one request of ${req.length} texts is ${bytes} bytes, more than a whole batch file may hold (${limits.fileBytes} bytes): lower --batch-inputs-per-request or raise --batch-file-mb`,
      );
    }
    if (reqTokens > budget) return false;
    file.requests.push({ customId: `r${file.requests.length}`, texts: req });
    file.texts += req.length;
    file.tokens += reqTokens;
    file.bytes += bytes;
    budget -= reqTokens;
    req = [];
    reqTokens = 0;
    return true;
  };
  for (const t of texts) {
    if (req.length > 0 && (req.length >= limits.inputsPerRequest || reqTokens + t.tokens > limits.maxRequestTokens)) {
      if (!closeRequest()) break;
    }
    req.push(t);
    reqTokens += t.tokens;
  }
  closeRequest();
  closeFile();
  return files;
}

/** The JSONL of a recorded job, from its items (custom id → shas) and the texts' contents. */
export function jsonlOf(
  items: Map<string, { position: number; sha: Buffer }[]>,
  contents: Map<string, string>,
  bodyOf: (texts: string[]) => Record<string, unknown>,
): Buffer {
  const ids = [...items.keys()].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
  const parts: Buffer[] = [];
  for (const id of ids) {
    const texts = items.get(id)!.map((x) => {
      const c = contents.get(x.sha.toString('hex'));
      if (c === undefined) throw new Error(`the text ${x.sha.toString('hex').slice(0, 12)} of ${id} is gone`);
      return c;
    });
    parts.push(Buffer.from(requestLine(id, bodyOf(texts))));
  }
  return Buffer.concat(parts);
}
