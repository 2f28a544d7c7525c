/** The options, progress and results of a backfill (run.ts runs it). */
import type { EncoderDeps, Encoder } from '../encoders/index.js';
import type { Logger } from '../log/index.js';
import type { OnProgress, Progress } from '../util/index.js';
import type { IndexResult } from './index-build.js';
import type { Backlog } from './plan.js';
import type { Clock } from './quota.js';

export interface BackfillOptions {
  /** Concurrent workers in this process (default 2). */
  workers?: number;
  /** Distinct texts per batch: the unit of lease, transaction and re-send (default 256). */
  batchSize?: number;
  rpm?: number;
  tpm?: number;
  /** Most encoder requests in flight (default: workers × 2); adapts down on 429s. */
  concurrency?: number;
  leaseMs?: number;
  maxAttempts?: number;
  maxTokens?: number;
  maxCost?: number;
  pricePerMillion?: number;
  /** Build the ANN index when the partition is complete (default true). */
  index?: boolean;
  maintenanceWorkMem?: string;
  parallelWorkers?: number;
  dryRun?: boolean;
  /** First abort: stop claiming, finish in-flight batches. */
  signal?: AbortSignal;
  /** Abort: stop in-flight encoder calls and release their batches. */
  hardSignal?: AbortSignal;
  onProgress?: OnProgress<BackfillProgress>;
  clock?: Clock;
  /** Sync mode: events only when the version changes state. */
  sync?: boolean;
}

export interface BackfillDeps extends EncoderDeps {
  logger: Logger;
  actor: string;
  /** Test seam: use this encoder instead of making the version's. */
  encoder?: Encoder;
}

export interface BackfillProgress extends Progress {
  phase: 'embedding';
  version: string;
  totalChunks: number;
  doneChunks: number;
  embedded: number;
  reused: number;
  tokens: number;
  costUsd: number;
  rateLimited: number;
  elapsedMs: number;
  chunksPerSecond: number;
  etaSeconds: number | null;
}

export interface BackfillPlan extends Backlog {
  version: string;
  encoder: string;
  textsToEmbed: number;
  tokens: number;
  pricePerMillion: number | null;
  estimatedCostUsd: number | null;
}

export interface BackfillSummary {
  version: string;
  worker: string;
  chunksWritten: number;
  embedded: number;
  reused: number;
  tokens: number;
  costUsd: number;
  requests: number;
  rateLimited: number;
  retries: number;
  failedBatches: { batchId: number; error: string }[];
  /** `batch-api`: the chunks still missing are texts that open Batch API jobs hold (`backfill --batch-api` collects them). */
  stoppedBy: 'complete' | 'signal' | 'max-tokens' | 'max-cost' | 'others-in-flight' | 'batch-api' | 'failures';
  /** Texts still missing that open Batch API jobs hold. */
  batchApiTexts: number;
  complete: boolean;
  index: IndexResult | null;
  state: string;
  seconds: number;
}
