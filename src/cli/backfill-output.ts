import type { BackfillProgress, BackfillSummary } from '../backfill/index.js';
import { syncLiveVersions } from '../backfill/index.js';
import { InterruptedError, RefusedError } from '../errors.js';
import type { CliContext } from './context.js';
import { createProgress, formatDuration, formatUsd } from './progress.js';
import { requireSchema } from './schema-guard.js';

/** The progress line of a backfill (or of each version of a sync). */
export function progressPrinter(ctx: CliContext): (s: BackfillProgress) => void {
  const p = createProgress(ctx.logger, { quiet: ctx.out.json });
  return (s) => {
    if (s.doneChunks >= s.totalChunks) {
      p.done();
      return;
    }
    const pct = s.totalChunks ? ((100 * s.doneChunks) / s.totalChunks).toFixed(1) : '100';
    p.update(
      `${s.version}: ${s.doneChunks}/${s.totalChunks} chunks (${pct}%) · ${Math.round(s.chunksPerSecond)}/s · ${s.tokens.toLocaleString('en-US')} tokens · ${formatUsd(s.costUsd)}` +
        `${s.rateLimited ? ` · ${s.rateLimited}×429` : ''} · ETA ${s.etaSeconds === null ? '?' : formatDuration(s.etaSeconds)}`,
      { ...s },
    );
  };
}

/**
 * First SIGINT/SIGTERM: stop claiming and finish in-flight batches (hard
 * stop after 30 s); second: exit at once (leases expire or are reclaimed).
 * After a clean stop, `onStopped` reports what was done, then the command
 * fails with an InterruptedError.
 */
export async function withSignals<T>(
  fn: (signal: AbortSignal, hard: AbortSignal) => Promise<T>,
  onStopped: (result: T) => void,
): Promise<T> {
  const soft = new AbortController();
  const hard = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (!soft.signal.aborted) {
      process.stderr.write(`\nembctl: ${sig}: finishing in-flight batches (send again to exit at once)\n`);
      soft.abort(new Error(sig));
      timer = setTimeout(() => hard.abort(new Error('grace period over')), 30_000);
      timer.unref();
    } else {
      process.stderr.write(`embctl: ${sig} again: exiting now; leases are reclaimed on the next run\n`);
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await fn(soft.signal, hard.signal);
    if (soft.signal.aborted) {
      onStopped(result);
      throw new InterruptedError(
        `stopped by ${String((soft.signal.reason as Error)?.message ?? 'signal')} after a clean stop: run the same command again to resume`,
      );
    }
    return result;
  } finally {
    if (timer) clearTimeout(timer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Print a backfill's summary; a backfill stopped by failed batches fails the command. */
export function reportBackfill(ctx: CliContext, s: BackfillSummary): void {
  ctx.out.result(s);
  const idx = s.index
    ? s.index.built
      ? ` · index ${s.index.reason} in ${(s.index.ms / 1000).toFixed(1)}s`
      : ` · index: ${s.index.reason}`
    : '';
  ctx.out.line(
    `backfilled ${s.version}: ${s.chunksWritten} chunks (${s.embedded} texts embedded, ${s.reused} reused) in ${formatDuration(s.seconds)}` +
      ` · ${s.tokens.toLocaleString('en-US')} tokens · ${formatUsd(s.costUsd)} · ${s.requests} requests, ${s.rateLimited} rate-limited${idx} · state ${s.state}`,
  );
  if (s.stoppedBy === 'batch-api') {
    // The online path did all it may: the rest is held by Batch API jobs (plan.ts leaves their texts alone).
    const what = `${s.batchApiTexts} texts are in open Batch API jobs: run \`embctl backfill ${s.version} --batch-api\` to collect them (or --cancel)`;
    throw new RefusedError(`${s.version} is not complete: ${what}`);
  }
  if (!s.complete) {
    const why = {
      signal: 'stopped by a signal',
      'max-tokens': 'the --max-tokens budget is spent',
      'max-cost': 'the --max-cost budget is spent',
      'others-in-flight': 'other workers still hold batches; the last one to finish builds the index',
      'batch-api': 'Batch API jobs hold the rest',
      failures: 'some batches failed',
      complete: '',
    }[s.stoppedBy];
    ctx.out.line(`not complete: ${why}; run embctl backfill ${s.version} again to continue`);
  }
  for (const f of s.failedBatches) ctx.out.line(`  batch ${f.batchId} set aside: ${f.error}`);
  if (s.stoppedBy === 'failures') {
    throw new RefusedError(
      s.failedBatches.length
        ? `${s.failedBatches.length} batch(es) of ${s.version} failed and were set aside (see above and embctl status): fix the cause and run embctl backfill ${s.version} again`
        : `backfill of ${s.version} is incomplete (see embctl status): run embctl backfill ${s.version} again`,
    );
  }
}

/** `embctl sync` and `embctl ingest --sync`: syncLiveVersions with signals, progress and a line per version. */
export async function syncAndReport(ctx: CliContext, workers: number): Promise<void> {
  const db = await ctx.writableDb('sync');
  await requireSchema(db);
  const results = await withSignals(
    (signal, hardSignal) =>
      syncLiveVersions(
        db,
        {
          workers,
          signal,
          hardSignal,
          onProgress: progressPrinter(ctx),
          onSynced: (s) =>
            ctx.out.line(
              `${s.version}: ${s.chunksWritten} new chunks embedded (${s.embedded} texts sent, ${s.reused} reused)${s.complete ? '' : ` — incomplete (${s.stoppedBy})`}`,
            ),
        },
        ctx.encoderDeps(),
      ),
    (stopped) => {
      const last = stopped.at(-1);
      if (last) reportBackfill(ctx, last);
    },
  );
  ctx.out.result(results);
  if (results.length === 0) ctx.out.line('no live versions to sync');
  const bad = results.filter((r) => !r.complete && r.stoppedBy === 'failures');
  if (bad.length) {
    throw new RefusedError(
      `sync left ${bad.map((b) => b.version).join(', ')} incomplete: see embctl status, then run embctl sync again`,
    );
  }
}
