import type { Command } from 'commander';
import { planBackfill, runBackfill, type BackfillOptions } from '../../backfill/index.js';
import { buildIndex } from '../../backfill/index.js';
import { requireVersion } from '../../versions/index.js';
import { progressPrinter, reportBackfill, syncAndReport, withSignals } from '../backfill-output.js';
import { formatUsd } from '../progress.js';
import type { CliContext } from '../context.js';
import { intOption, numberOption } from '../options.js';
import { requireSchema } from '../schema-guard.js';
import { warnPastEmbeddedCeiling } from '../ceiling-hint.js';
import { addBatchApiOptions, runBatchApiCommand, type BatchApiFlags } from './backfill-batch-api.js';

interface BackfillFlags extends BatchApiFlags {
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
    .option(
      '--concurrency <n>',
      'most encoder requests in flight (adapts down on 429s; default workers × 2)',
      intOption(1, 1024),
    )
    .option('--max-tokens <n>', 'stop cleanly once this many tokens are spent', intOption(1))
    .option('--max-cost <usd>', 'stop cleanly once this much is spent', numberOption(0, 1e9))
    .option('--price-per-mtok <usd>', 'price per million tokens (overrides the built-in table)', numberOption(0, 1e6))
    .option('--no-index', 'do not build the ANN index after the load')
    .option(
      '--maintenance-work-mem <size>',
      "maintenance_work_mem for the index build, e.g. 2GB (default: the server's; 512MB on the embedded database)",
    )
    .option('--parallel-workers <n>', 'server: parallel workers for the index build (default 2)', intOption(0, 64))
    .option('--lease-seconds <n>', 'lease length of a batch (default 120)', intOption(1, 86_400))
    .option('--dry-run', 'print chunks to embed, chunks reused, tokens and estimated cost; write nothing')
    .addHelpText(
      'after',
      `
Examples:
  $ embctl backfill v2 --dry-run
  $ embctl backfill v2 --workers 4 --rpm 3000 --tpm 1000000 --max-cost 25
  $ embctl backfill v2 --workers 8        # on each of several hosts: they share the work
  $ embctl backfill v2 --batch-api --dry-run
  $ embctl backfill v2 --batch-api          # submit batches and exit; run again to collect
  $ embctl backfill v2 --batch-api --wait   # submit, poll, collect until fully covered

Ctrl-C once: stop claiming, finish in-flight batches, exit; twice: exit at once.
Killed any other way, run it again: it resumes where it stopped.`,
    )
    .action(async (key: string, f: BackfillFlags) => {
      if (f.batchApi || f.wait || f.cancel) {
        await runBatchApiCommand(ctx, key, f, f);
        return;
      }
      const db = await (f.dryRun ? ctx.db() : ctx.writableDb(`backfill ${key}`));
      await requireSchema(db);
      await warnPastEmbeddedCeiling(ctx, db);
      const deps = ctx.encoderDeps();
      const options: BackfillOptions = {
        workers: f.workers,
        batchSize: f.batchSize,
        rpm: f.rpm,
        tpm: f.tpm,
        concurrency: f.concurrency,
        maxTokens: f.maxTokens,
        maxCost: f.maxCost,
        pricePerMillion: f.pricePerMtok,
        index: f.index,
        maintenanceWorkMem: f.maintenanceWorkMem,
        parallelWorkers: f.parallelWorkers,
        leaseMs: f.leaseSeconds !== undefined ? f.leaseSeconds * 1000 : undefined,
      };
      if (f.dryRun) {
        const plan = await planBackfill(db, key, options, deps);
        ctx.out.result(plan);
        ctx.out.line(
          `dry run for ${plan.version} (${plan.encoder}): ${plan.missingChunks} chunks lack a vector (${plan.missingTexts} distinct texts)`,
        );
        ctx.out.line(
          `  reused from identical encoders: ${plan.reusableChunks} chunks (${plan.reusableTexts} texts) — free`,
        );
        ctx.out.line(
          `  to embed: ${plan.textsToEmbed} texts, ${plan.tokens.toLocaleString('en-US')} tokens, estimated cost ${plan.estimatedCostUsd === null ? 'unknown (pass --price-per-mtok)' : formatUsd(plan.estimatedCostUsd)}`,
        );
        ctx.out.line('  nothing was written');
        return;
      }
      const summary = await withSignals(
        (signal, hardSignal) =>
          runBackfill(
            db,
            key,
            {
              ...options,
              signal,
              hardSignal,
              onProgress: progressPrinter(ctx),
            },
            deps,
          ),
        (stopped) => reportBackfill(ctx, stopped),
      );
      reportBackfill(ctx, summary);
    });
  addBatchApiOptions(backfill);

  program
    .command('sync')
    .description('embed chunks ingested since the last backfill for every live version (keeps candidates fresh)')
    .option('--workers <n>', 'concurrent workers (default 2)', intOption(1, 256), 2)
    .addHelpText('after', '\nExamples:\n  $ embctl ingest docs/ && embctl sync\n  $ embctl ingest docs/ --sync')
    .action(async (f: { workers: number }) => {
      await syncAndReport(ctx, f.workers);
    });

  program
    .command('index <key>')
    .description("build (or --rebuild) a version's ANN index and ANALYZE its partition")
    .option('--rebuild', 'drop and build again even when the index is valid')
    .option('--force', 'allow --rebuild on the active version')
    .option(
      '--maintenance-work-mem <size>',
      "maintenance_work_mem for the build, e.g. 2GB (default: the server's; 512MB on the embedded database)",
    )
    .option('--parallel-workers <n>', 'server: parallel workers for the build (default 2)', intOption(0, 64))
    .addHelpText(
      'after',
      '\nExamples:\n  $ embctl index v2\n  $ embctl index v2 --rebuild --maintenance-work-mem 4GB --parallel-workers 4',
    )
    .action(
      async (
        key: string,
        f: { rebuild?: boolean; force?: boolean; maintenanceWorkMem?: string; parallelWorkers?: number },
      ) => {
        const db = await ctx.writableDb(`build the index of ${key}`);
        await requireSchema(db);
        const v = await requireVersion(db.kysely, key);
        const r = await buildIndex(db, v, {
          rebuild: f.rebuild,
          force: f.force,
          maintenanceWorkMem: f.maintenanceWorkMem,
          parallelWorkers: f.parallelWorkers,
          logger: ctx.logger,
        });
        ctx.out.result(r);
        ctx.out.line(
          r.built ? `${key}: ${v.index_kind} index ${r.reason} in ${(r.ms / 1000).toFixed(1)}s` : `${key}: ${r.reason}`,
        );
      },
    );
}
