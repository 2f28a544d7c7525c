/** Options, progress and results of a backfill through the Batch API (run.ts runs it). */
import type { OnProgress } from '../../util/index.js';
import type { BackfillSummary } from '../types.js';

/** The provider's limits a job must respect. Defaults: OpenAI's documented ones (DEFAULT_LIMITS). */
export interface BatchApiLimits {
  /** Requests (JSONL lines) per file. OpenAI: at most 50 000. */
  requestsPerFile: number;
  /** Texts in one request's `input`. OpenAI: at most 2 048. */
  inputsPerRequest: number;
  /** Texts across a file's requests. OpenAI (embeddings): at most 50 000. */
  inputsPerFile: number;
  /** Bytes of one input file. OpenAI: at most 200 MB. */
  fileBytes: number;
  /** Tokens in the version's unfinished jobs at once (the organisation's enqueued-token limit for the model). */
  enqueuedTokens: number;
}

export const DEFAULT_LIMITS: BatchApiLimits = {
  requestsPerFile: 50_000,
  inputsPerRequest: 100,
  inputsPerFile: 50_000,
  fileBytes: 190 * 1024 * 1024,
  enqueuedTokens: 3_000_000,
};

/** What happens to a text after `maxAttempts` batch attempts: the online path embeds it, or it is set aside. */
export type ExhaustedPolicy = 'online' | 'set-aside';

export interface BatchApiOptions {
  limits?: Partial<BatchApiLimits>;
  /** Batch attempts per text (default 3). */
  maxAttempts?: number;
  /** Default 'online'. */
  exhausted?: ExhaustedPolicy;
  /** Poll until every job is collected and nothing is left to submit. */
  wait?: boolean;
  /** First and longest wait between polls (default 5 s and 60 s; it grows ×1.5 while nothing changes). */
  pollMs?: number;
  maxPollMs?: number;
  /** Cancel the version's live batches remotely (and record it); submit nothing. */
  cancel?: boolean;
  pricePerMillion?: number;
  /** Build the ANN index when the version is fully covered (default true). */
  index?: boolean;
  /** Workers of the online path (texts out of batch attempts, with exhausted = 'online'). */
  workers?: number;
  signal?: AbortSignal;
  onProgress?: OnProgress<BatchApiProgress>;
  /** Test seam: the waits between polls. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface BatchApiProgress {
  phase: 'batch-api';
  version: string;
  jobs: { submitted: number; inProgress: number; completed: number; collected: number; failed: number };
  textsWritten: number;
  textsLeft: number;
  billedTokens: number;
  costUsd: number;
  elapsedMs: number;
}

export interface BatchApiJobView {
  id: number;
  batchId: string | null;
  status: string;
  remoteStatus: string | null;
  requests: number;
  texts: number;
  textsWritten: number;
  textsFailed: number;
  billedTokens: number;
  lastError: string | null;
}

export interface BatchApiSummary {
  version: string;
  /** Jobs submitted by this invocation. */
  submitted: number;
  /** Jobs collected by this invocation. */
  collected: number;
  /** Texts written (with every chunk that holds them) by this invocation. */
  textsWritten: number;
  chunksWritten: number;
  /** Texts written from vectors an identical encoder had already made. */
  reused: number;
  billedTokens: number;
  costUsd: number;
  /** Batches cancelled remotely, and jobs released before they had a batch (with `cancel`). */
  cancelled: number;
  /** With `cancel`: batches the provider does not know, whose texts were released (one line each). */
  released: string[];
  jobs: BatchApiJobView[];
  /** Texts missing that still have batch attempts and are in no live job (left for a later pass). */
  textsLeft: number;
  exhausted: number;
  setAside: number;
  /** Problems met while collecting (a download cut off, malformed lines); a rerun picks them up. */
  problems: string[];
  /** The online run that took over texts out of attempts, or that finished the version. */
  online: BackfillSummary | null;
  complete: boolean;
  state: string;
  seconds: number;
}

export interface BatchApiPlan {
  version: string;
  encoder: string;
  files: number;
  requests: number;
  texts: number;
  tokens: number;
  /** Texts that an identical encoder already embedded (written without a call). */
  reusable: number;
  liveJobs: number;
  pricePerMillion: number | null;
  batchCostUsd: number | null;
  onlineCostUsd: number | null;
}
