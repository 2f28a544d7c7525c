import type { Command } from 'commander';
import { planBackfill, runBackfill, type BackfillOptions, type BackfillSummary } from '../../backfill/run.js';
import { buildIndex } from '../../backfill/index-build.js';
import { InterruptedError, RefusedError } from '../../errors.js';
import { listVersions, requireVersion } from '../../versions/store.js';
import type { CliContext } from '../context.js';
import { intOption, numberOption } from '../options.js';
import { createProgress, formatDuration } from '../progress.js';
import { requireSchema } from '../schema-guard.js';
import { setSyncAfterIngest } from './ingest.js';

interface BackfillFlags {
  workers: number;
  batchSize?: number;
  rpm?: number;
  tpm?: number;
  concurrency?: number;
  maxTokens?: number;
  maxCost?: number;
  pricePerMtok?: number;
  index: boolean;
  maintenanceWorkMem?: string;
  parallelWorkers?: number;
  leaseSeconds?: number;
  dryRun?: boolean;
}

export function registerBackfill(program: Command, ctx: CliContext): void {
  const backfill = program
    .command('backfill <key>')
    .description('embed every live chunk for a version: resumable, multi-worker, quota-aware; then index it')
    .option('--workers <n>', 'concurrent workers in this process (default 2)', intOption(1, 256), 2)
    .option('--batch-size <n>', 'distinct texts per leased batch (default 256)', intOption(1, 100_000))
    .option('--rpm <n>', "the provider's requests-per-minute limit", intOption(1))
    .option('--tpm <n>', "the provider's tokens-per-minute limit", intOption(1))
    .option('--concurrency <n>', 'most encoder requests in flight (adapts down on 429s; default workers × 2)', intOption(1, 1024))
    .option('--max-tokens <n>', 'stop cleanly once this many tokens are spent', intOption(1))
    .option('--max-cost <usd>', 'stop cleanly once this much is spent', numberOption(0, 1e9))
    .option('--price-per-mtok <usd>', 'price per million tokens (overrides the built-in table)', numberOption(0, 1e6))
    .option('--no-index', 'do not build the ANN index after the load')
    .option('--maintenance-work-mem <size>', 'server: maintenance_work_mem for the index build, e.g. 2GB')
    .option('--parallel-workers <n>', 'server: parallel workers for the index build (default 2)', intOption(0, 64))
    .option('--lease-seconds <n>', 'lease length of a batch (default 120)', intOption(1, 86_400))
    .option('--dry-run', 'print chunks to embed, chunks reused, tokens and estimated cost; write nothing')
    .addHelpText('after', `
Examples:
  $ embctl backfill v2 --dry-run
  $ embctl backfill v2 --workers 4 --rpm 3000 --tpm 1000000 --max-cost 25
  $ embctl backfill v2 --workers 8        # on each of several hosts: they share the work

Ctrl-C once: stop claiming, finish in-flight batches, exit; twice: exit at once.
Killed any other way, run it again: it resumes where it stopped.`)
    .action(async (key: string, f: BackfillFlags) => {
      const db = await ctx.db();
      await requireSchema(db);
      const deps = encoderDeps(ctx);
      const options: BackfillOptions = {
        workers: f.workers, batchSize: f.batchSize, rpm: f.rpm, tpm: f.tpm, concurrency: f.concurrency,
        maxTokens: f.maxTokens, maxCost: f.maxCost, pricePerMillion: f.pricePerMtok, index: f.index,
        maintenanceWorkMem: f.maintenanceWorkMem, parallelWorkers: f.parallelWorkers,
        leaseMs: f.leaseSeconds !== undefined ? f.leaseSeconds * 1000 : undefined,
      };
      if (f.dryRun) {
        const plan = await planBackfill(db, key, options, deps);
        ctx.out.result(plan);
        ctx.out.line(`dry run for ${plan.version} (${plan.encoder}): ${plan.missingChunks} chunks lack a vector (${plan.missingTexts} distinct texts)`);
        ctx.out.line(`  reused from identical encoders: ${plan.reusableChunks} chunks (${plan.reusableTexts} texts) — free`);
        ctx.out.line(`  to embed: ${plan.textsToEmbed} texts, ${plan.tokens.toLocaleString('en-US')} tokens, estimated cost ${plan.estimatedCostUsd === null ? 'unknown (pass --price-per-mtok)' : `$${plan.estimatedCostUsd.toFixed(4)}`}`);
        ctx.out.line('  nothing was written');
        return;
      }
      const summary = await withSignals(ctx, (signal, hardSignal) => runBackfill(db, key, {
        ...options, signal, hardSignal, onProgress: progressPrinter(ctx),
      }, deps));
      report(ctx, summary);
    });
  void backfill;

  program
    .command('sync')
    .description('embed chunks ingested since the last backfill for every live version (keeps candidates fresh)')
    .option('--workers <n>', 'concurrent workers (default 2)', intOption(1, 256), 2)
    .addHelpText('after', '\nExamples:\n  $ embctl ingest docs/ && embctl sync\n  $ embctl ingest docs/ --sync')
    .action(async (f: { workers: number }) => {
      await syncAll(ctx, f.workers);
    });

  program
    .command('index <key>')
    .description("build (or --rebuild) a version's ANN index and ANALYZE its partition")
    .option('--rebuild', 'drop and build again even when the index is valid')
    .option('--force', 'allow --rebuild on the active version')
    .option('--maintenance-work-mem <size>', 'server: maintenance_work_mem for the build, e.g. 2GB')
    .option('--parallel-workers <n>', 'server: parallel workers for the build (default 2)', intOption(0, 64))
    .addHelpText('after', '\nExamples:\n  $ embctl index v2\n  $ embctl index v2 --rebuild --maintenance-work-mem 4GB --parallel-workers 4')
    .action(async (key: string, f: { rebuild?: boolean; force?: boolean; maintenanceWorkMem?: string; parallelWorkers?: number }) => {
      const db = await ctx.db();
      await requireSchema(db);
      const v = await requireVersion(db.kysely, key);
      if (v.state === 'retired') throw new RefusedError(`version ${key} is retired: it has no partition to index`);
      if (v.active && f.rebuild && !f.force) {
        throw new RefusedError(`version ${key} is active: a rebuild drops its index first, so searches would scan until it is built again; pass --force to do it anyway, or activate another version first`);
      }
      const r = await buildIndex(db, v, { rebuild: f.rebuild, maintenanceWorkMem: f.maintenanceWorkMem, parallelWorkers: f.parallelWorkers, logger: ctx.logger });
      ctx.out.result(r);
      ctx.out.line(r.built ? `${key}: ${v.index_kind} index ${r.reason} in ${(r.ms / 1000).toFixed(1)}s` : `${key}: ${r.reason}`);
    });

  setSyncAfterIngest((c) => syncAll(c, 2));
}

async function syncAll(ctx: CliContext, workers: number): Promise<void> {
  const db = await ctx.db();
  await requireSchema(db);
  const versions = (await listVersions(db.kysely)).filter((v) => v.state !== 'retired');
  const results: BackfillSummary[] = [];
  for (const v of versions) {
    const s = await withSignals(ctx, (signal, hardSignal) => runBackfill(db, v.version_key, {
      workers, sync: true, signal, hardSignal, onProgress: progressPrinter(ctx),
    }, encoderDeps(ctx)));
    results.push(s);
    ctx.out.line(`${v.version_key}: ${s.chunksWritten} new chunks embedded (${s.embedded} texts sent, ${s.reused} reused)${s.complete ? '' : ` — incomplete (${s.stoppedBy})`}`);
  }
  ctx.out.result(results);
  if (versions.length === 0) ctx.out.line('no live versions to sync');
  const bad = results.filter((r) => !r.complete && r.stoppedBy === 'failures');
  if (bad.length) throw new RefusedError(`sync left ${bad.map((b) => b.version).join(', ')} incomplete: see embctl status, then run embctl sync again`);
}

function encoderDeps(ctx: CliContext) {
  return {
    logger: ctx.logger, actor: ctx.config.actorName, openaiApiKey: ctx.config.openaiApiKey,
    openaiBaseUrl: ctx.config.openaiBaseUrl, env: ctx.env,
  };
}

function progressPrinter(ctx: CliContext) {
  const p = createProgress(ctx.logger, { quiet: ctx.out.json });
  return (s: { version: string; totalChunks: number; doneChunks: number; tokens: number; costUsd: number; chunksPerSecond: number; etaSeconds: number | null; rateLimited: number }) => {
    if (s.doneChunks >= s.totalChunks) { p.done(); return; }
    const pct = s.totalChunks ? ((100 * s.doneChunks) / s.totalChunks).toFixed(1) : '100';
    p.update(`${s.version}: ${s.doneChunks}/${s.totalChunks} chunks (${pct}%) · ${Math.round(s.chunksPerSecond)}/s · ${s.tokens.toLocaleString('en-US')} tokens · $${s.costUsd.toFixed(4)}`
      + `${s.rateLimited ? ` · ${s.rateLimited}×429` : ''} · ETA ${s.etaSeconds === null ? '?' : formatDuration(s.etaSeconds)}`, { ...s });
  };
}

/**
 * First SIGINT/SIGTERM: stop claiming and finish in-flight batches (hard
 * stop after 30 s); second: exit at once (leases expire or are reclaimed).
 */
async function withSignals<T>(ctx: CliContext, fn: (signal: AbortSignal, hard: AbortSignal) => Promise<T>): Promise<T> {
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
      const s = result as unknown as BackfillSummary;
      if (s && typeof s === 'object' && 'chunksWritten' in s) report(ctx, s);
      throw new InterruptedError(`stopped by ${String((soft.signal.reason as Error)?.message ?? 'signal')} after a clean stop: run the same command again to resume`);
    }
    return result;
  } finally {
    if (timer) clearTimeout(timer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function report(ctx: CliContext, s: BackfillSummary): void {
  ctx.out.result(s);
  const idx = s.index ? (s.index.built ? ` · index ${s.index.reason} in ${(s.index.ms / 1000).toFixed(1)}s` : ` · index: ${s.index.reason}`) : '';
  ctx.out.line(`backfilled ${s.version}: ${s.chunksWritten} chunks (${s.embedded} texts embedded, ${s.reused} reused) in ${formatDuration(s.seconds)}`
    + ` · ${s.tokens.toLocaleString('en-US')} tokens · $${s.costUsd.toFixed(4)} · ${s.requests} requests, ${s.rateLimited} rate-limited${idx} · state ${s.state}`);
  if (!s.complete) {
    const why = {
      'signal': 'stopped by a signal', 'max-tokens': 'the --max-tokens budget is spent', 'max-cost': 'the --max-cost budget is spent',
      'others-in-flight': 'other workers still hold batches; the last one to finish builds the index', 'failures': 'some batches failed', 'complete': '',
    }[s.stoppedBy];
    ctx.out.line(`not complete: ${why}; run embctl backfill ${s.version} again to continue`);
  }
  for (const f of s.failedBatches) ctx.out.line(`  batch ${f.batchId} set aside: ${f.error}`);
  if (s.stoppedBy === 'failures') {
    throw new RefusedError(s.failedBatches.length
      ? `${s.failedBatches.length} batch(es) of ${s.version} failed and were set aside (see above and embctl status): fix the cause and run embctl backfill ${s.version} again`
      : `backfill of ${s.version} is incomplete (see embctl status): run embctl backfill ${s.version} again`);
  }
}
