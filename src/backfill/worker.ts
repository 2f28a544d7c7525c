import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/index.js';
import { copyBinaryWriter, encodeRows, type EmbeddingRow, type EncodedRows } from '../partitions/index.js';
import type { Encoder, EncoderEvent } from '../encoders/index.js';
import type { Logger } from '../log/index.js';
import { scrubSecrets } from '../log/index.js';
import { InputError, UnavailableError } from '../errors.js';
import { loadBatch } from './batch-content.js';
import { claimBatch, completeBatch, failBatch, heartbeat, releaseBatch, type Lease } from './leases.js';
import type { Quota } from './quota.js';
import { requestGroups } from './request-groups.js';
import { failpoint } from '../util/index.js';
import { textIndexOf } from '../encoders/index.js';

/** What a worker needs, shared by every worker of a run. */
export interface WorkerContext {
  db: Kysely<DB>;
  version: { id: number; version_key: string; dimensions: number; encoder_identity: string };
  encoder: Encoder;
  quota: Quota;
  logger: Logger;
  leaseMs: number;
  maxAttempts: number;
  /** The backfill_runs row of this process: completed batches are credited to it. */
  runId: number;
  /** Stop claiming new batches (graceful stop, budget reached). */
  stopping: () => boolean;
  /** Aborts in-flight encoder calls (second signal, grace period over). */
  abort: AbortSignal;
  /** May this many more tokens be spent? (budget check before each request). */
  budgetAllows: (tokens: number) => boolean;
  onBatchDone: (r: WrittenBatch) => void;
  onBatchFailed: (batchId: number, error: string, final: boolean) => void;
  onEncoderEvent: (e: EncoderEvent) => void;
}

export interface WrittenBatch {
  batchId: number;
  chunks: number;
  embedded: number;
  reused: number;
  tokens: number;
}

class LeaseLost extends Error {}
class BudgetReached extends Error {}

/**
 * One worker: claim a batch, embed what it lacks, write it in one
 * transaction with its bookkeeping; embedding, checking and encoding of
 * the next batch overlap the write of the previous one. Stops when no
 * batch is left or when told.
 */
export async function runWorker(ctx: WorkerContext, workerId: string): Promise<void> {
  let writing: Promise<void> = Promise.resolve();
  let consecutiveFailures = 0;
  /** A failure that ends this worker (the database went away); set by the write chain too. */
  let fatal: unknown;
  const stop = new AbortController();
  const fail = (e: unknown) => {
    fatal ??= e;
    stop.abort(e);
  };
  const log = ctx.logger.child({ worker: workerId });
  while (fatal === undefined && !ctx.stopping() && !ctx.abort.aborted) {
    const lease = await claimBatch(ctx.db, ctx.version.id, workerId, ctx.leaseMs, ctx.maxAttempts);
    if (!lease) break;
    const blog = log.child({ batch: lease.batchId });
    const lost = new AbortController();
    const signal = AbortSignal.any([ctx.abort, lost.signal, stop.signal]);
    const beat = setInterval(
      () => {
        heartbeat(ctx.db, lease, workerId, ctx.leaseMs).then(
          (ok) => {
            if (!ok) lost.abort(new LeaseLost(`lease on batch ${lease.batchId} was lost`));
          },
          () => {},
        );
      },
      Math.max(250, Math.floor(ctx.leaseMs / 3)),
    );
    try {
      const prepared = await prepareBatch(ctx, lease, signal);
      await writing; // one write at a time per worker; the next batch was embedding meanwhile
      if (fatal !== undefined) {
        clearInterval(beat);
        break; // the previous write lost the database: this batch's lease expires (or is freed by the next run)
      }
      // Never rejects: a failure is recorded, or (database gone) ends the worker through `fatal`.
      writing = writeBatch(ctx, lease, workerId, prepared)
        .then((r) => {
          consecutiveFailures = 0;
          ctx.onBatchDone(r);
        })
        .catch((e) => handleFailure(ctx, lease, workerId, e, blog))
        .catch(fail)
        .finally(() => clearInterval(beat));
    } catch (e) {
      clearInterval(beat);
      if (fatal !== undefined) break;
      if (e instanceof BudgetReached || (ctx.abort.aborted && !(e instanceof LeaseLost))) {
        await releaseBatch(ctx.db, lease, workerId);
        if (e instanceof BudgetReached) break;
        continue;
      }
      await handleFailure(ctx, lease, workerId, e, blog);
      if (++consecutiveFailures >= 5) {
        await writing;
        throw e;
      }
    }
  }
  await writing;
  if (fatal !== undefined) throw fatal;
}

interface Prepared {
  /** Checked and encoded here, while the previous batch's COPY runs. */
  encoded: EncodedRows;
  embedded: number;
  reused: number;
  tokens: number;
}

async function prepareBatch(ctx: WorkerContext, lease: Lease, signal: AbortSignal): Promise<Prepared> {
  const content = await loadBatch(ctx.db, ctx.version.id, ctx.version.encoder_identity, lease.batchId);
  const vectors = new Map<string, Float32Array>(content.reused);
  const todo = content.texts.filter((t) => !vectors.has(t.sha));
  let tokens = 0;
  const groups = requestGroups(todo, (t) => t.content, ctx.encoder);
  // The whole batch's budget up front: never pay for part of a batch and drop it.
  if (!ctx.budgetAllows(groups.reduce((n, g) => n + g.tokens, 0))) throw new BudgetReached();
  // One failing request stops its siblings: their results would be thrown away.
  const siblings = new AbortController();
  const groupSignal = AbortSignal.any([signal, siblings.signal]);
  await Promise.all(
    groups.map(async (group, i) => {
      const release = await ctx.quota.acquire(group.tokens, groupSignal);
      try {
        const out = await ctx.encoder.embed(
          group.items.map((t) => t.content),
          {
            signal: groupSignal,
            label: `batch ${lease.batchId}${groups.length > 1 ? ` part ${i + 1}/${groups.length}` : ''}`,
            onEvent: (e) => {
              if (e.type === 'response') tokens += e.tokens;
              ctx.onEncoderEvent(e);
            },
          },
        );
        if (out.length !== group.items.length) {
          throw new Error(`${ctx.encoder.spec} returned ${out.length} vectors for ${group.items.length} texts`);
        }
        group.items.forEach((t, j) => vectors.set(t.sha, out[j]!));
      } catch (e) {
        nameTheChunks(e, ctx.version.version_key, group.items);
        if (!siblings.signal.aborted) siblings.abort(e);
        throw e;
      } finally {
        release();
      }
    }),
  );
  const rows: EmbeddingRow[] = [];
  for (const t of content.texts) {
    const v = vectors.get(t.sha)!;
    for (const chunkId of t.chunkIds) rows.push({ chunkId, vector: v });
  }
  // A bad vector (dimensions, NaN, ±Infinity) is refused here, naming chunk and version.
  const encoded = await encodeRows(ctx.version, rows);
  return { encoded, embedded: todo.length, reused: content.texts.length - todo.length, tokens };
}

/**
 * A bad vector (NaN, Infinity, wrong size) for one text: say which chunks and
 * which version, so that the user can find the text that made it.
 */
function nameTheChunks(e: unknown, versionKey: string, items: readonly { chunkIds: number[] }[]): void {
  const i = textIndexOf(e);
  if (!(e instanceof Error) || i === undefined || !items[i]) return;
  const ids = items[i].chunkIds;
  const chunks =
    ids.length === 1 ? `chunk ${ids[0]}` : `chunks ${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', …' : ''}`;
  e.message = `${e.message}: ${chunks} of version ${versionKey}; nothing was written for this batch`;
}

async function writeBatch(ctx: WorkerContext, lease: Lease, workerId: string, p: Prepared): Promise<WrittenBatch> {
  await ctx.db.transaction().execute(async (trx) => {
    const ours = await completeBatch(trx, lease, workerId, {
      embedded: p.embedded,
      reused: p.reused,
      tokens: p.tokens,
      runId: ctx.runId,
    });
    if (!ours)
      throw new LeaseLost(`lease on batch ${lease.batchId} expired and was taken over; its vectors were not written`);
    await copyBinaryWriter.writeEncoded(trx, ctx.version, p.encoded);
    failpoint('backfill.write'); // written, not yet committed
  });
  return { batchId: lease.batchId, chunks: p.encoded.rows, embedded: p.embedded, reused: p.reused, tokens: p.tokens };
}

async function handleFailure(
  ctx: WorkerContext,
  lease: Lease,
  workerId: string,
  e: unknown,
  log: Logger,
): Promise<void> {
  // The database went away: nothing can be recorded, and every other call
  // would fail the same way. The batch stays leased until its lease expires
  // or the next run on this host frees it; the worker stops.
  if (e instanceof UnavailableError) throw e;
  const message = scrubSecrets(String((e as Error)?.message ?? e));
  if (e instanceof LeaseLost) {
    log.warn({ err: message }, 'lease lost; another worker owns the batch');
    return;
  }
  // Bad input (a wrong-dimension or NaN payload, a rejected key) will not get
  // better by paying for the batch again: set it aside at once.
  const limit = e instanceof InputError ? 0 : ctx.maxAttempts;
  const outcome = await failBatch(ctx.db, lease, workerId, message, limit);
  log.warn(
    { err: message, attempt: lease.attempts, outcome },
    outcome === 'failed' ? 'batch set aside after repeated failures' : 'batch failed; it will be retried',
  );
  ctx.onBatchFailed(lease.batchId, message, outcome === 'failed');
}

/** Live chunks still without a vector in the version (for progress and completeness). */
export async function missingChunks(db: Kysely<DB>, partition: string): Promise<number> {
  const r = await sql<{ n: number }>`
    select count(*) as n from document_chunks c
    where c.retired_at is null and not exists (select 1 from ${sql.raw(partition)} e where e.chunk_id = c.id)`.execute(
    db,
  );
  return Number(r.rows[0]?.n ?? 0);
}
