/** `backfill <key> --batch-api`: its flags, and what it prints. */
import type { Command } from 'commander';
import { Option } from 'commander';
import {
  BATCH_API_DEFAULT_LIMITS as D,
  planBatchBackfill,
  runBatchBackfill,
  type BatchApiOptions,
  type BatchApiProgress,
  type BatchApiSummary,
} from '../../backfill/index.js';
import { EncoderError, UsageError } from '../../errors.js';
import type { CliContext } from '../context.js';
import { intOption, numberOption } from '../options.js';
import { createProgress, formatUsd } from '../progress.js';
import { withSignals } from '../backfill-output.js';
import { requireSchema } from '../schema-guard.js';

export interface BatchApiFlags {
  batchApi?: boolean;
  wait?: boolean;
  cancel?: boolean;
  pollSeconds?: number;
  batchInputsPerRequest?: number;
  batchRequestsPerFile?: number;
  batchInputsPerFile?: number;
  batchFileMb?: number;
  batchMaxEnqueuedTokens?: number;
  batchAttempts?: number;
  batchExhausted?: 'online' | 'set-aside';
}

export function addBatchApiOptions(cmd: Command): Command {
  return cmd
    .option('--batch-api', 'embed through the provider Batch API (openai: encoders; half the online price)')
    .option('--wait', 'with --batch-api: poll until every batch is collected, with progress')
    .option('--cancel', 'with --batch-api: cancel the version’s live batches remotely and record it')
    .option(
      '--poll-seconds <s>',
      'with --wait: first wait between polls (grows ×1.5 to 60 s; default 5)',
      numberOption(0.001, 3600),
    )
    .option(
      '--batch-inputs-per-request <n>',
      `texts per request line (default ${D.inputsPerRequest})`,
      intOption(1, 2048),
    )
    .option(
      '--batch-requests-per-file <n>',
      `request lines per batch file (default ${D.requestsPerFile})`,
      intOption(1, 50_000),
    )
    .option('--batch-inputs-per-file <n>', `texts per batch file (default ${D.inputsPerFile})`, intOption(1, 50_000))
    .option(
      '--batch-file-mb <n>',
      `largest batch file in MB (default ${D.fileBytes / 1024 / 1024})`,
      numberOption(0.001, 200),
    )
    .option(
      '--batch-max-enqueued-tokens <n>',
      `tokens in this version's unfinished batches at once: your organisation's enqueued-token limit (default ${D.enqueuedTokens})`,
      intOption(1),
    )
    .option('--batch-attempts <n>', 'batch attempts per text before the fallback (default 3)', intOption(1, 100))
    .addOption(
      new Option(
        '--batch-exhausted <what>',
        'texts out of batch attempts: embed them online, or set them aside (default online)',
      ).choices(['online', 'set-aside']),
    );
}

export async function runBatchApiCommand(
  ctx: CliContext,
  key: string,
  f: BatchApiFlags,
  common: { dryRun?: boolean; pricePerMtok?: number; workers: number; index: boolean },
): Promise<void> {
  if (!f.batchApi && (f.wait || f.cancel)) throw new UsageError('--wait and --cancel go with --batch-api');
  const db = await (common.dryRun ? ctx.db() : ctx.writableDb(`backfill ${key} --batch-api`));
  await requireSchema(db);
  const deps = ctx.encoderDeps();
  const opts: BatchApiOptions = {
    limits: {
      ...(f.batchInputsPerRequest ? { inputsPerRequest: f.batchInputsPerRequest } : {}),
      ...(f.batchRequestsPerFile ? { requestsPerFile: f.batchRequestsPerFile } : {}),
      ...(f.batchInputsPerFile ? { inputsPerFile: f.batchInputsPerFile } : {}),
      ...(f.batchFileMb ? { fileBytes: Math.floor(f.batchFileMb * 1024 * 1024) } : {}),
      ...(f.batchMaxEnqueuedTokens ? { enqueuedTokens: f.batchMaxEnqueuedTokens } : {}),
    },
    maxAttempts: f.batchAttempts,
    exhausted: f.batchExhausted,
    wait: f.wait,
    cancel: f.cancel,
    pollMs: f.pollSeconds !== undefined ? f.pollSeconds * 1000 : undefined,
    maxPollMs: f.pollSeconds !== undefined ? Math.max(f.pollSeconds * 1000, 60_000) : undefined,
    pricePerMillion: common.pricePerMtok,
    workers: common.workers,
    index: common.index,
  };
  if (common.dryRun) {
    const p = await planBatchBackfill(db, key, opts, deps);
    ctx.out.result(p);
    const usd = (x: number | null) => (x === null ? 'unknown (pass --price-per-mtok)' : formatUsd(x));
    ctx.out.line(`dry run for ${p.version} (${p.encoder}) through the Batch API:`);
    ctx.out.line(
      `  ${p.files} batches (${p.requests} requests), ${p.texts} texts, ${p.tokens.toLocaleString('en-US')} tokens`,
    );
    ctx.out.line(`  cost at batch prices ${usd(p.batchCostUsd)}, at online prices ${usd(p.onlineCostUsd)}`);
    if (p.reusable) ctx.out.line(`  reused from identical encoders: ${p.reusable} texts — free`);
    if (p.liveJobs) ctx.out.line(`  already submitted: ${p.liveJobs} batches (not counted above)`);
    ctx.out.line('  nothing was written or submitted');
    return;
  }
  const progress = createProgress(ctx.logger, { quiet: ctx.out.json });
  const onProgress = (s: BatchApiProgress) => {
    const j = s.jobs;
    progress.update(
      `${s.version}: batches ${j.submitted} submitted · ${j.inProgress} in progress · ${j.completed} completed · ${j.collected} collected${j.failed ? ` · ${j.failed} failed/expired` : ''} · ${s.textsWritten} texts written · ${formatUsd(s.costUsd)}`,
      { ...s },
    );
  };
  const summary = await withSignals(
    (signal) => runBatchBackfill(db, key, { ...opts, signal, onProgress: f.wait ? onProgress : undefined }, deps),
    (s) => report(ctx, s, opts),
  );
  progress.done();
  report(ctx, summary, opts);
  // --cancel did what it was asked when it returns: every live batch cancelled, every unknown one released.
  if (summary.problems.length > 0 && !summary.complete && !f.wait && !f.cancel) {
    throw new EncoderError(
      `${summary.problems.length} problems while collecting; run the same command again to pick up the rest`,
    );
  }
}

function report(ctx: CliContext, s: BatchApiSummary, opts: BatchApiOptions): void {
  ctx.out.result(s);
  const live = s.jobs.filter((j) => j.status !== 'collected');
  if (opts.cancel) {
    const released = s.released.length ? `, released ${s.released.length} the provider does not know` : '';
    const open = live.length
      ? `${live.length} still open (${live.map((j) => j.remoteStatus ?? j.status).join(', ')}): run embctl backfill ${s.version} --batch-api to collect them`
      : 'none still open';
    ctx.out.line(`${s.version} --batch-api --cancel: cancelled ${s.cancelled} batches${released}; ${open}`);
    for (const r of s.released) ctx.out.line(`  released: ${r}`);
    printProblems(ctx, s);
    return;
  }
  const parts = [
    `${s.submitted} batches submitted`,
    `${s.collected} collected`,
    `${s.textsWritten} texts written (${s.chunksWritten} chunks${s.reused ? `, ${s.reused} texts reused` : ''})`,
    `${s.billedTokens.toLocaleString('en-US')} tokens · ${formatUsd(s.costUsd)} at batch prices`,
  ];
  ctx.out.line(`${s.version} --batch-api: ${parts.join(' · ')}`);
  printProblems(ctx, s);
  if (s.online)
    ctx.out.line(
      `  online path: ${s.online.embedded} texts embedded, ${s.online.reused} reused · state ${s.online.state}`,
    );
  if (s.setAside)
    ctx.out.line(
      `  ${s.setAside} texts set aside after their batch attempts: see embctl status; run embctl backfill ${s.version} to embed them online`,
    );
  if (s.complete) ctx.out.line(`  fully covered · state ${s.state}`);
  else if (live.length > 0)
    ctx.out.line(
      `  ${live.length} batches open (${live.map((j) => j.remoteStatus ?? j.status).join(', ')}): run the same command again to collect them, or add --wait`,
    );
}

function printProblems(ctx: CliContext, s: BatchApiSummary): void {
  for (const p of s.problems.slice(0, 10)) ctx.out.line(`  problem: ${p}`);
  if (s.problems.length > 10) ctx.out.line(`  … and ${s.problems.length - 10} more problems`);
}
