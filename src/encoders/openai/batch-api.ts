/**
 * The OpenAI Batch API for `/v1/embeddings` through the official SDK: upload
 * a JSONL file (purpose `batch`), create, retrieve, find and cancel a batch,
 * and stream a result file line by line. Transient failures (429, 5xx, a
 * dropped connection) are retried like embeddings requests; the key never
 * appears in a message. What to put in the files and what to do with the
 * results is the backfill's (src/backfill/batch-api/).
 */
import { toFile } from 'openai';
import type OpenAI from 'openai';
import { EncoderError, InputError, NotFoundError } from '../../errors.js';
import { silentLogger } from '../../log/index.js';
import { createOpenAIClient } from './connection.js';
import { BatchFailure, withRetries, type RetryConfig } from './retry.js';
import { resolveOpenAIOptions, type OpenAIEncoderOptions } from './options.js';

/** The remote statuses of a batch, as the API names them. */
export const REMOTE_BATCH_STATUSES = [
  'validating',
  'in_progress',
  'finalizing',
  'completed',
  'failed',
  'expired',
  'cancelling',
  'cancelled',
] as const;
export type RemoteBatchStatus = (typeof REMOTE_BATCH_STATUSES)[number];
export const TERMINAL_BATCH_STATUSES: ReadonlySet<string> = new Set(['completed', 'failed', 'expired', 'cancelled']);

export interface RemoteBatch {
  id: string;
  status: RemoteBatchStatus;
  inputFileId: string;
  outputFileId: string | null;
  errorFileId: string | null;
  requestCounts: { total: number; completed: number; failed: number };
  /** Input tokens the provider reports for the batch so far (0 when it does not say). */
  inputTokens: number;
  /** The batch's own errors (validation), one line. */
  errors: string | null;
  createdAt: number;
  metadata: Record<string, string> | null;
}

/** The base URL answers 404 on the Files or Batch API: it has no Batch support. */
export class BatchApiUnsupportedError extends InputError {}

export interface OpenAIBatchApi {
  readonly model: string;
  readonly baseURLHost: string;
  /** The body of one `/v1/embeddings` request line for these texts. */
  requestBody(texts: string[]): Record<string, unknown>;
  /** Throws BatchApiUnsupportedError when the server has no Batch API (before anything is recorded). */
  probe(signal?: AbortSignal): Promise<void>;
  /** Upload a batch input file; returns its file id. */
  upload(filename: string, content: Buffer, signal?: AbortSignal): Promise<string>;
  create(inputFileId: string, metadata: Record<string, string>, signal?: AbortSignal): Promise<RemoteBatch>;
  /** The batch, or null when the provider says it does not exist (404). */
  retrieve(batchId: string, signal?: AbortSignal): Promise<RemoteBatch | null>;
  cancel(batchId: string, signal?: AbortSignal): Promise<RemoteBatch | null>;
  /** The batch made from this input file or carrying this tag, looking back to `since` (unix seconds). */
  find(match: { inputFileId?: string; tag: string }, since: number, signal?: AbortSignal): Promise<RemoteBatch | null>;
  /** The lines of a file, streamed; throws when the download ends early. */
  lines(fileId: string, signal?: AbortSignal): AsyncGenerator<string>;
}

export type BatchApiOptions = Pick<
  OpenAIEncoderOptions,
  | 'model'
  | 'dimensions'
  | 'sendDimensions'
  | 'baseURL'
  | 'apiKey'
  | 'timeoutMs'
  | 'maxAttempts'
  | 'backoff'
  | 'encodingFormat'
  | 'logger'
  | 'fetch'
  | 'env'
>;

export function createOpenAIBatchApi(options: BatchApiOptions): OpenAIBatchApi {
  const cfg = resolveOpenAIOptions(options);
  const name = `openai:${cfg.model}`;
  const client = createOpenAIClient(cfg, cfg.timeoutMs, options.fetch);
  const retry: RetryConfig = {
    timeoutMs: cfg.timeoutMs,
    maxAttempts: cfg.maxAttempts,
    backoff: options.backoff ?? {},
    secrets: cfg.apiKey.length >= 4 ? [cfg.apiKey] : [],
    logger: (options.logger ?? silentLogger()).child({ encoder: name, host: cfg.baseURLHost }),
    what: 'batch API request',
  };

  /** One call with retries; a final failure becomes a one-line embctl error (or null for a 404 when `missing`). */
  async function call<T>(
    what: string,
    fn: (signal: AbortSignal) => Promise<T>,
    signal: AbortSignal | undefined,
    on404: 'unsupported' | 'missing' | 'not-found',
  ): Promise<T | null> {
    try {
      return await withRetries({ ...retry, what }, { items: 0, tokens: 0, signal }, async (s) => ({
        value: await fn(s),
      }));
    } catch (err) {
      if (!(err instanceof BatchFailure)) throw err;
      const f = err.failure;
      if (f.status === 404 && on404 === 'missing') return null;
      if (f.status === 404 && on404 === 'unsupported') {
        throw new BatchApiUnsupportedError(`${cfg.baseURLHost} has no Batch API (404 on ${what}: ${f.reason})`);
      }
      if (f.status === 404) throw new NotFoundError(`${name}: ${what}: not found at ${cfg.baseURLHost}: ${f.reason}`);
      if (f.status === 401 || f.status === 403) {
        throw new InputError(`${name}: ${what} refused at ${cfg.baseURLHost}: ${f.reason}; check OPENAI_API_KEY`);
      }
      if (f.status !== undefined && f.status >= 400 && f.status < 500 && !f.retryable) {
        throw new InputError(`${name}: ${what} refused at ${cfg.baseURLHost}: ${f.reason}`);
      }
      const tries = err.attempts > 1 ? ` after ${err.attempts} attempts` : '';
      throw new EncoderError(`${name}: ${what} failed${tries} at ${cfg.baseURLHost}: ${f.reason}`);
    }
  }

  return {
    model: cfg.model,
    baseURLHost: cfg.baseURLHost,
    requestBody(texts) {
      const body: Record<string, unknown> = { model: cfg.model, input: texts, encoding_format: cfg.encodingFormat };
      if (cfg.dimensionsParam !== undefined) body.dimensions = cfg.dimensionsParam;
      return body;
    },
    async probe(signal) {
      await call(
        'batch list',
        (s) => client.batches.list({ limit: 1 }, { signal: s, maxRetries: 0 }),
        signal,
        'unsupported',
      );
    },
    async upload(filename, content, signal) {
      const file = await call(
        'file upload',
        async (s) =>
          client.files.create(
            { file: await toFile(content, filename), purpose: 'batch' },
            { signal: s, maxRetries: 0 },
          ),
        signal,
        'unsupported',
      );
      return file!.id;
    },
    async create(inputFileId, metadata, signal) {
      const b = await call(
        'batch creation',
        (s) =>
          client.batches.create(
            { input_file_id: inputFileId, endpoint: '/v1/embeddings', completion_window: '24h', metadata },
            { signal: s, maxRetries: 0 },
          ),
        signal,
        'unsupported',
      );
      return toRemote(b!);
    },
    async retrieve(batchId, signal) {
      const b = await call(
        'batch status',
        (s) => client.batches.retrieve(batchId, { signal: s, maxRetries: 0 }),
        signal,
        'missing',
      );
      return b ? toRemote(b) : null;
    },
    async cancel(batchId, signal) {
      const b = await call(
        'batch cancel',
        (s) => client.batches.cancel(batchId, { signal: s, maxRetries: 0 }),
        signal,
        'missing',
      );
      return b ? toRemote(b) : null;
    },
    async find(match, since, signal) {
      let after: string | undefined;
      for (let page = 0; page < 1000; page++) {
        const list = await call(
          'batch list',
          (s) => client.batches.list({ limit: 100, ...(after ? { after } : {}) }, { signal: s, maxRetries: 0 }),
          signal,
          'unsupported',
        );
        const data = list!.data;
        for (const b of data) {
          if (b.input_file_id === match.inputFileId || b.metadata?.embctl_tag === match.tag) return toRemote(b);
        }
        const last = data[data.length - 1];
        // Newest first: once past `since` (with an hour of clock skew), nothing older can be ours.
        if (!list!.has_more || !last || last.created_at < since - 3600) return null;
        after = last.id;
      }
      return null;
    },
    async *lines(fileId, signal) {
      const res = await call(
        'file download',
        (s) => client.files.content(fileId, { signal: s, maxRetries: 0 }),
        signal,
        'not-found',
      );
      yield* splitLines(res!, `${name}: the download of ${fileId} from ${cfg.baseURLHost}`);
    },
  };
}

/** The complete lines of a response body; throws when it ends before its content-length or fails midway. */
async function* splitLines(res: Response, what: string): AsyncGenerator<string> {
  const expected = Number(res.headers.get('content-length') ?? NaN);
  if (!res.body) return;
  const decoder = new TextDecoder('utf-8', { fatal: false });
  let carry = '';
  let bytes = 0;
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      carry += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = carry.indexOf('\n')) >= 0) {
        const line = carry.slice(0, nl).replace(/\r$/, '');
        carry = carry.slice(nl + 1);
        if (line.trim() !== '') yield line;
      }
    }
  } catch (e) {
    throw new EncoderError(`${what} was cut off after ${bytes} bytes (${String((e as Error)?.message ?? e)})`);
  }
  if (Number.isFinite(expected) && bytes < expected) {
    throw new EncoderError(`${what} was cut off after ${bytes} of ${expected} bytes`);
  }
  carry += decoder.decode();
  if (carry.trim() !== '') yield carry.replace(/\r$/, '');
}

function toRemote(b: OpenAI.Batches.Batch): RemoteBatch {
  const counts = b.request_counts ?? { total: 0, completed: 0, failed: 0 };
  const errors = b.errors?.data?.length
    ? b.errors.data
        .slice(0, 3)
        .map((e) => `${e.code ?? 'error'}${e.line ? ` (line ${e.line})` : ''}: ${e.message ?? ''}`)
        .join('; ')
    : null;
  const usage = (b as { usage?: { input_tokens?: number } }).usage;
  return {
    id: b.id,
    status: b.status as RemoteBatchStatus,
    inputFileId: b.input_file_id,
    outputFileId: b.output_file_id ?? null,
    errorFileId: b.error_file_id ?? null,
    requestCounts: { total: counts.total, completed: counts.completed, failed: counts.failed },
    inputTokens: typeof usage?.input_tokens === 'number' ? usage.input_tokens : 0,
    errors: errors ? errors.slice(0, 500) : null,
    createdAt: b.created_at,
    metadata: (b.metadata as Record<string, string> | null) ?? null,
  };
}
