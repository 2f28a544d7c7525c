/** Progress reports, job views and the version's move to `backfilling` for the Batch API path. */
import { partitionTable } from '../../partitions/index.js';
import { recordEvent, requireVersion, transitionState } from '../../versions/index.js';
import { costOf } from '../pricing.js';
import { missingChunks } from '../worker.js';
import type { JobRow } from './store.js';
import type { SubmitContext } from './submit.js';
import type { BatchApiJobView, BatchApiOptions, BatchApiSummary } from './types.js';

export async function markStarted(ctx: SubmitContext, s: BatchApiSummary, jobs: number): Promise<void> {
  const v = await requireVersion(ctx.db, ctx.version.version_key);
  if (v.state !== 'registered') return;
  const chunks = await missingChunks(ctx.db, partitionTable(v.id)); // not inside the transaction: PGlite has one connection
  await ctx.db.transaction().execute(async (trx) => {
    if (!(await transitionState(trx, v.id, 'registered', 'backfilling'))) return;
    await recordEvent(trx, {
      versionId: v.id,
      versionKey: v.version_key,
      event: 'backfill_started',
      actor: ctx.actor,
      details: { chunks, batches: jobs, worker: ctx.worker },
    });
  });
  s.state = 'backfilling';
}

export function report(
  opts: BatchApiOptions,
  s: BatchApiSummary,
  open: JobRow[],
  started: number,
  price: number | undefined,
): void {
  if (!opts.onProgress) return;
  const count = (...st: string[]) => open.filter((j) => st.includes(j.status)).length;
  opts.onProgress({
    phase: 'batch-api',
    version: s.version,
    jobs: {
      submitted: count('preparing', 'uploaded', 'creating', 'validating'),
      inProgress: count('in_progress', 'finalizing', 'cancelling'),
      completed: count('completed'),
      collected: s.collected,
      failed: count('failed', 'expired', 'cancelled'),
    },
    textsWritten: s.textsWritten,
    textsLeft: s.textsLeft,
    billedTokens: s.billedTokens,
    costUsd: costOf(s.billedTokens, price),
    elapsedMs: performance.now() - started,
  });
}

export function epoch(d: Date | string): number {
  return Math.floor(new Date(d).getTime() / 1000);
}

export function viewOf(j: JobRow): BatchApiJobView {
  return {
    id: j.id,
    batchId: j.batch_id,
    status: j.status,
    remoteStatus: j.remote_status,
    requests: j.requests,
    texts: j.texts,
    textsWritten: j.texts_written,
    textsFailed: j.texts_failed,
    billedTokens: j.billed_tokens,
    lastError: j.last_error,
  };
}
