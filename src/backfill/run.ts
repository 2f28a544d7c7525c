import { hostname } from 'node:os';
import { sql } from 'kysely';
import type { Db } from '../db/index.js';
import type { EncoderEvent } from '../encoders/index.js';
import { InputError, RefusedError, UnavailableError, UsageError } from '../errors.js';
import { encoderForVersion } from '../versions/index.js';
import { partitionTable } from '../partitions/index.js';
import { markReady, recordEvent, requireVersion, type VersionRow } from '../versions/index.js';
import { transitionState } from '../versions/index.js';
import { buildIndex, type IndexResult } from './index-build.js';
import { batchCounts, reclaimDeadLocal } from './leases.js';
import { markDeadRuns } from './dead-runs.js';
import { backlog, planBatches, requeueFailed, setAsideExhausted, textsToEmbed } from './plan.js';
import { costOf, pricePerMillion } from './pricing.js';
import { Quota } from './quota.js';
import { missingChunks, runWorker, type WrittenBatch } from './worker.js';
import { textsInOpenJobs } from './batch-api/store.js';
import { isProcessAlive } from '../util/index.js';
import type { BackfillDeps, BackfillOptions, BackfillPlan, BackfillProgress, BackfillSummary } from './types.js';
import { workerNonce } from '../util/index.js';

/** Plan a backfill without writing: chunks to embed, reused, tokens, cost. */
export async function planBackfill(
  db: Db,
  key: string,
  opts: BackfillOptions,
  deps: BackfillDeps,
): Promise<BackfillPlan> {
  const v = await requireVersion(db.kysely, key);
  refuseRetired(v);
  const encoder = deps.encoder ?? (await encoderForVersion(v, deps));
  try {
    const b = await backlog(db.kysely, v.id, v.encoder_identity);
    let tokens = 0;
    for await (const page of textsToEmbed(db.kysely, v.id, v.encoder_identity)) {
      for (const t of page) tokens += encoder.countTokens(t);
    }
    const price = pricePerMillion(v.encoder_name, opts.pricePerMillion);
    return {
      version: v.version_key,
      encoder: v.encoder_spec,
      ...b,
      textsToEmbed: b.missingTexts - b.reusableTexts,
      tokens,
      pricePerMillion: price ?? null,
      estimatedCostUsd: price === undefined ? null : costOf(tokens, price),
    };
  } finally {
    if (!deps.encoder) await encoder.close?.();
  }
}

/**
 * Backfill one version: plan batches of distinct texts, run workers that
 * lease them, and when the partition is complete build its index, ANALYZE,
 * and move the version to `ready`. Resumable and safe to run from many
 * processes at once.
 */
export async function runBackfill(
  db: Db,
  key: string,
  opts: BackfillOptions,
  deps: BackfillDeps,
): Promise<BackfillSummary> {
  const started = performance.now();
  const v = await requireVersion(db.kysely, key);
  refuseRetired(v);
  const workers = opts.workers ?? 2;
  const batchSize = opts.batchSize ?? 256;
  if (!Number.isInteger(workers) || workers < 1 || workers > 256)
    throw new InputError(`--workers must be 1 to 256, not ${workers}`);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100_000)
    throw new InputError(`--batch-size must be 1 to 100000, not ${batchSize}`);
  if (opts.maxCost !== undefined && pricePerMillion(v.encoder_name, opts.pricePerMillion) === undefined) {
    throw new UsageError(
      `--max-cost needs a price for ${v.encoder_name}, which is not in the built-in table: add --price-per-mtok <usd>`,
    );
  }
  const encoder = deps.encoder ?? (await encoderForVersion(v, deps));
  const workerId = `${hostname()}:${process.pid}:${workerNonce()}`;
  const log = deps.logger.child({ version: v.version_key, worker: workerId });
  const price = pricePerMillion(v.encoder_name, opts.pricePerMillion);
  const partition = partitionTable(v.id);

  try {
    // Runs whose process is gone (kill -9, a lost connection) are closed with what they committed.
    await markDeadRuns(db.kysely);
    await reclaimDeadLocal(db.kysely, v.id, hostname(), isProcessAlive);
    await setAsideExhausted(db.kysely, v.id, opts.maxAttempts ?? 3);
    const requeued = await requeueFailed(db.kysely, v.id);
    if (requeued) log.info({ batches: requeued }, 'retrying batches set aside by an earlier run');
    const planned = await planBatches(db.kysely, v.id, batchSize);
    const totalChunks = await missingChunks(db.kysely, partition);
    if (v.state === 'registered') {
      await db.kysely.transaction().execute(async (trx) => {
        await transitionState(trx, v.id, 'registered', 'backfilling');
        await recordEvent(trx, {
          versionId: v.id,
          versionKey: v.version_key,
          event: 'backfill_started',
          actor: deps.actor,
          details: { chunks: totalChunks, batches: planned, worker: workerId },
        });
      });
    }
    const run = await db.kysely
      .insertInto('backfill_runs')
      .values({ embedding_version_id: v.id, worker: workerId, price_per_mtok: price ?? null })
      .returning('id')
      .executeTakeFirstOrThrow();

    const quota = new Quota({
      rpm: opts.rpm,
      tpm: opts.tpm,
      maxConcurrency: opts.concurrency ?? workers * 2,
      clock: opts.clock,
    });
    const t = { chunks: 0, embedded: 0, reused: 0, tokens: 0, requests: 0, rateLimited: 0, retries: 0, spent: 0 };
    const failed: { batchId: number; error: string }[] = [];
    let stoppedBy: BackfillSummary['stoppedBy'] = 'complete';
    let budgetHit: 'max-tokens' | 'max-cost' | null = null;
    const hard = new AbortController();
    const onHard = () => hard.abort(opts.hardSignal?.reason ?? new Error('backfill stopped'));
    opts.hardSignal?.addEventListener('abort', onHard, { once: true });
    if (opts.hardSignal?.aborted) onHard();

    const progress = (): BackfillProgress => {
      const elapsedMs = performance.now() - started;
      const rate = t.chunks / Math.max(0.001, elapsedMs / 1000);
      return {
        phase: 'embedding',
        version: v.version_key,
        totalChunks,
        doneChunks: t.chunks,
        embedded: t.embedded,
        reused: t.reused,
        tokens: t.tokens,
        costUsd: costOf(t.tokens, price),
        rateLimited: t.rateLimited,
        elapsedMs,
        chunksPerSecond: rate,
        etaSeconds: rate > 0 ? Math.max(0, totalChunks - t.chunks) / rate : null,
      };
    };
    const flushRun = (status?: 'completed' | 'stopped' | 'failed', error?: string) =>
      db.kysely
        .updateTable('backfill_runs')
        .set({
          embedded: t.embedded,
          reused: t.reused,
          tokens: t.tokens,
          cost_usd: costOf(t.tokens, price),
          encoder_requests: t.requests,
          rate_limited: t.rateLimited,
          heartbeat_at: sql`now()`,
          ...(status ? { status, finished_at: sql`now()`, error: error ?? null } : {}),
        })
        .where('id', '=', run.id)
        .execute();
    // The heartbeat runs until the run is closed (index build included): a run without one is taken for dead.
    let loading = true;
    const ticker = setInterval(() => {
      if (loading) opts.onProgress?.(progress());
      flushRun().catch(() => {});
    }, 1000);

    let workerError: unknown;
    const stopped = () =>
      Boolean(opts.signal?.aborted || opts.hardSignal?.aborted) || budgetHit !== null || workerError !== undefined;
    const workerContext = {
      db: db.kysely,
      version: v,
      encoder,
      quota,
      logger: log,
      leaseMs: opts.leaseMs ?? 120_000,
      maxAttempts: opts.maxAttempts ?? 3,
      runId: Number(run.id),
      stopping: () => Boolean(opts.signal?.aborted) || budgetHit !== null,
      abort: hard.signal,
      budgetAllows: (tokens: number) => {
        const next = t.spent + tokens;
        if (opts.maxTokens !== undefined && next > opts.maxTokens) budgetHit = 'max-tokens';
        else if (opts.maxCost !== undefined && costOf(next, price) > opts.maxCost) budgetHit = 'max-cost';
        if (budgetHit) return false;
        t.spent = next;
        return true;
      },
      onBatchDone: (r: WrittenBatch) => {
        t.chunks += r.chunks;
        t.embedded += r.embedded;
        t.reused += r.reused;
        log.debug({ batch: r.batchId, chunks: r.chunks, embedded: r.embedded, reused: r.reused }, 'batch written');
      },
      onBatchFailed: (batchId: number, error: string, final: boolean) => {
        if (final) failed.push({ batchId, error });
      },
      onEncoderEvent: (e: EncoderEvent) => {
        if (e.type === 'request') t.requests++;
        else if (e.type === 'response') {
          t.tokens += e.tokens;
          quota.onSuccess();
        } else if (e.type === 'rate_limited') {
          t.rateLimited++;
          quota.onRateLimited(e.retryAfterMs);
        } else if (e.type === 'retry') t.retries++;
      },
    };
    let closed = false; // the run's final status was written
    try {
      try {
        // Rounds: chunks ingested while a round ran are planned and done in the next one.
        for (let round = 0; round < 10; round++) {
          await Promise.all(
            Array.from({ length: workers }, (_, i) =>
              runWorker(workerContext, `${workerId}/${i + 1}`).catch((e) => {
                workerError ??= e;
                hard.abort(e);
              }),
            ),
          );
          if (stopped() || (await planBatches(db.kysely, v.id, batchSize)) === 0) break;
        }
      } finally {
        loading = false;
        opts.hardSignal?.removeEventListener('abort', onHard);
      }
      opts.onProgress?.(progress());
      // The database went away: close the run if it is back already, else the next command will.
      if (workerError instanceof UnavailableError) throw workerError;

      if (budgetHit) stoppedBy = budgetHit;
      else if (opts.signal?.aborted || opts.hardSignal?.aborted) stoppedBy = 'signal';
      else if (workerError) stoppedBy = 'failures';

      if ((await requireVersion(db.kysely, key)).state === 'retired') {
        clearInterval(ticker);
        closed = true;
        await flushRun('stopped', 'the version was retired during the run');
        throw new RefusedError(`version ${key} was retired while it was being backfilled: its partition is gone`);
      }
      const counts = await batchCounts(db.kysely, v.id);
      const remaining = await missingChunks(db.kysely, partition);
      const complete = remaining === 0 && counts.pending + counts.leased + counts.failed === 0;
      // Texts that Batch API jobs hold are theirs (the planner skips them): when they are all that is left, say so.
      const batchApiTexts = complete ? 0 : await textsInOpenJobs(db.kysely, v.id);
      if (!complete && stoppedBy === 'complete') {
        const onlineLeft = counts.pending + counts.failed + failed.length > 0;
        stoppedBy =
          counts.leased > 0 ? 'others-in-flight' : !onlineLeft && batchApiTexts > 0 ? 'batch-api' : 'failures';
      }

      let index: IndexResult | null = null;
      let state: string = (await requireVersion(db.kysely, key)).state;
      if (complete) {
        if (opts.index !== false) {
          index = await buildIndex(db, v, {
            maintenanceWorkMem: opts.maintenanceWorkMem,
            parallelWorkers: opts.parallelWorkers,
            logger: log,
          }).catch((e) => {
            throw new IndexBuildFailed(e);
          });
        }
        // The planner needs fresh statistics after a load (a build ANALYZEs already).
        if (!index?.built && t.chunks > 0) await sql.raw(`ANALYZE ${partition}`).execute(db.kysely);
        state = await finishVersion(db, v, deps.actor, index, opts.index !== false, {
          embedded: t.embedded,
          reused: t.reused,
          tokens: t.tokens,
          costUsd: costOf(t.tokens, price),
          seconds: (performance.now() - started) / 1000,
        });
      }
      const errorText = workerError ? String((workerError as Error).message ?? workerError) : failed[0]?.error;
      clearInterval(ticker);
      closed = true;
      await flushRun(complete ? 'completed' : stoppedBy === 'failures' ? 'failed' : 'stopped', errorText);
      if (workerError && !(opts.signal?.aborted || opts.hardSignal?.aborted)) throw workerError;

      return {
        version: v.version_key,
        worker: workerId,
        chunksWritten: t.chunks,
        embedded: t.embedded,
        reused: t.reused,
        tokens: t.tokens,
        costUsd: costOf(t.tokens, price),
        requests: t.requests,
        rateLimited: t.rateLimited,
        retries: t.retries,
        failedBatches: failed,
        stoppedBy,
        batchApiTexts,
        complete,
        index,
        state,
        seconds: Math.round((performance.now() - started) / 10) / 100,
      };
    } catch (e) {
      const inner = e instanceof IndexBuildFailed ? e.inner : e;
      if (!closed) {
        // Close the run as failed (best effort: with the database away, the next command does it).
        clearInterval(ticker);
        const why =
          e instanceof IndexBuildFailed
            ? `index build failed: ${(inner as Error)?.message}`
            : String((inner as Error)?.message ?? inner);
        await flushRun('failed', why).catch(() => {});
      }
      throw inner;
    } finally {
      clearInterval(ticker);
    }
  } finally {
    if (!deps.encoder) await encoder.close?.();
  }
}

/** Wraps an index build failure, so the run records it as such. */
class IndexBuildFailed extends Error {
  constructor(readonly inner: unknown) {
    super('index build failed');
  }
}

/** A complete partition with a valid index (or none wanted) makes the version ready. */
async function finishVersion(
  db: Db,
  v: VersionRow,
  actor: string,
  index: IndexResult | null,
  indexWanted: boolean,
  stats: Record<string, number>,
): Promise<string> {
  const current = await requireVersion(db.kysely, v.version_key);
  if (current.state === 'ready' || current.state === 'retired') return current.state;
  if (indexWanted && v.index_kind !== 'none' && index && !index.built && index.reason !== 'index already valid') {
    return current.state; // another process is building the index; it will mark the version ready
  }
  await markReady(db.kysely, v, actor, index, stats);
  return (await requireVersion(db.kysely, v.version_key)).state;
}

function refuseRetired(v: VersionRow): void {
  if (v.state === 'retired')
    throw new RefusedError(
      `version ${v.version_key} is retired: its partition is gone; register a new version instead`,
    );
  const parent = (v.derivation as { parentKey?: string } | null)?.parentKey;
  if (parent !== undefined)
    throw new RefusedError(
      `version ${v.version_key} is derived from ${parent}: its vectors are computed from ${parent}'s, not by an encoder; run embctl versions derive ${v.version_key} --from ${parent} (with its flags) or embctl sync`,
    );
}
