/**
 * Types of the test server's Batch API: batch objects, their errors, the
 * faults a test can inject per batch, options and counters. The behaviour is
 * described in openai-server-batches.ts.
 */

export type BatchStatus =
  'validating' | 'failed' | 'in_progress' | 'finalizing' | 'completed' | 'expired' | 'cancelling' | 'cancelled';

export const TERMINAL: ReadonlySet<BatchStatus> = new Set(['failed', 'completed', 'expired', 'cancelled']);

export interface BatchError {
  code: string;
  message: string;
  line: number | null;
  param: string | null;
}

/** Which request a fault aims at: by custom_id, else by 0-based line (default 0). */
export interface LineTarget {
  customId?: string;
  line?: number;
}

export type BatchFault =
  /** Validation fails with these errors (default one `batch_failed` error). */
  | { kind: 'fail'; errors?: BatchError[] }
  /** The batch expires at its first in_progress step after running `completed` requests (default half, rounded down). */
  | { kind: 'expire'; completed?: number }
  /** These requests fail: error file lines with this status (default 500) and message. */
  | { kind: 'error-lines'; customIds?: string[]; lines?: number[]; status?: number; message?: string }
  /** The request's output line is cut in the middle (not JSON). It is still billed. */
  | ({ kind: 'malformed-line' } & LineTarget)
  /** The request's output line is left out of both files. It is still billed. */
  | ({ kind: 'missing-line' } & LineTarget)
  /** The request's output line appears twice. Billed once. */
  | ({ kind: 'duplicate-line' } & LineTarget)
  /** An extra, valid-looking output line whose custom_id is not in the input (default `unknown-<batch n>`). */
  | { kind: 'unknown-custom-id'; customId?: string }
  /** The request's vectors have this many dimensions. */
  | ({ kind: 'wrong-dimensions'; dimensions: number } & LineTarget)
  /** One vector of the request holds NaN (null in float JSON) / +Infinity (1e999 in float JSON). */
  | ({ kind: 'nan'; item?: number } & LineTarget)
  | ({ kind: 'infinity'; item?: number } & LineTarget)
  /** The request's `data` lacks its last `drop` items (default 1). */
  | ({ kind: 'short-list'; drop?: number } & LineTarget)
  /** The output lines come in a shuffled (deterministic) order. */
  | { kind: 'shuffle' }
  /** The next `times` (default 1) downloads of the output (default) or error file end after `afterBytes` (default half). */
  | { kind: 'cut-download'; file?: 'output' | 'error'; afterBytes?: number; times?: number };

/** What a rule's `match` sees of a new batch (from a lenient read of its input file). */
export interface BatchInfo {
  /** 1-based number of this batch among the batches created. */
  n: number;
  id: string;
  inputFileId: string;
  metadata: Record<string, string> | null;
  customIds: string[];
  texts: string[];
}

export interface BatchFaultRule {
  fault: BatchFault;
  /** How many batches get this fault (default 1; Infinity for all). */
  times?: number;
  match?: (batch: BatchInfo) => boolean;
}

export interface BatchOptions {
  /** Largest batch input file accepted at upload, in bytes. Default 200 MB. */
  maxFileBytes?: number;
  /** Most requests (lines) per batch. Default 50 000. */
  maxRequests?: number;
  /** Most embedding inputs across a batch's requests. Default 50 000. */
  maxInputs?: number;
  /** Most tokens enqueued per model over the batches not yet finished. Default: no limit. */
  maxEnqueuedTokens?: number;
  /** Advances a batch spends in in_progress (each runs an equal share of the requests). Default 1. */
  inProgressSteps?: number;
  /** Advance every live batch one step every this many ms (default: only when told). */
  autoAdvanceMs?: number;
}

export interface BatchStats {
  filesUploaded: number;
  filesDeleted: number;
  /** GET /files/{id}/content requests, and how many of them were cut off. */
  downloads: number;
  cutDownloads: number;
  batchesCreated: number;
  /** Cancel requests that moved a batch to cancelling. */
  cancels: number;
  /** custom_id → how many created batches held it (lenient read at creation, any outcome). */
  submittedCustomIds: Map<string, number>;
  /** text → how many times created batches held it. */
  submittedTexts: Map<string, number>;
  /** custom_id → how many times it was billed (a request that ran and answered 200). */
  billedCustomIds: Map<string, number>;
  /** text → how many times it was billed through batches. */
  billedTexts: Map<string, number>;
  /** Tokens billed through batches, in all and per model. */
  tokens: number;
  tokensByModel: Map<string, number>;
}

export function newBatchStats(): BatchStats {
  return {
    filesUploaded: 0,
    filesDeleted: 0,
    downloads: 0,
    cutDownloads: 0,
    batchesCreated: 0,
    cancels: 0,
    submittedCustomIds: new Map(),
    submittedTexts: new Map(),
    billedCustomIds: new Map(),
    billedTexts: new Map(),
    tokens: 0,
    tokensByModel: new Map(),
  };
}

/** The batch object as the API answers it. */
export interface BatchObject {
  id: string;
  object: 'batch';
  endpoint: string;
  model: string | null;
  errors: { object: 'list'; data: BatchError[] } | null;
  input_file_id: string;
  completion_window: string;
  status: BatchStatus;
  output_file_id: string | null;
  error_file_id: string | null;
  created_at: number;
  in_progress_at: number | null;
  expires_at: number;
  finalizing_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  expired_at: number | null;
  cancelling_at: number | null;
  cancelled_at: number | null;
  request_counts: { total: number; completed: number; failed: number };
  usage: {
    input_tokens: number;
    input_tokens_details: { cached_tokens: number };
    output_tokens: number;
    output_tokens_details: { reasoning_tokens: number };
    total_tokens: number;
  };
  metadata: Record<string, string> | null;
}
