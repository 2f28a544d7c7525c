import { Command } from 'commander';
import { writeOutputFile } from '../../util/index.js';
import { UsageError } from '../../errors.js';
import {
  calibrateJudge,
  formatPool,
  judgeVersion,
  labelsFormat,
  loadScorer,
  makeJudge,
  buildPool,
  judgedSetQueries,
  passageTexts,
  shadowQueries,
  type JudgeReport,
} from '../../judge/index.js';
import { crossEncoderJudge, parseJudgeSpec, HUMAN_JUDGE, type Judge } from '../../judges/index.js';
import { judgeCounts, latestCalibration } from '../../judgments/index.js';
import { createSearchRetriever } from '../../evaluate/index.js';
import { listVersions } from '../../versions/index.js';
import { withSignals } from '../backfill-output.js';
import type { CliContext } from '../context.js';
import { intOption, numberOption } from '../options.js';
import { createProgress, formatDuration } from '../progress.js';
import { requireSchema } from '../schema-guard.js';
import { printCalibration, printReport } from '../judge-output.js';
import {
  importCommand,
  judgeOptions,
  limitPairs,
  loadSet,
  pickVersions,
  querySource,
  sourceOptions,
  thresholdsOption,
  type JudgeFlags,
  type SourceFlags,
} from './judge-inputs.js';

export function registerJudge(program: Command, ctx: CliContext): void {
  const judge = program
    .command('judge')
    .description('judge the disagreements: pool the top results of two versions and grade the unjudged pairs');

  sourceOptions(
    judge
      .command('run', { isDefault: true })
      .description("pool the candidate's and the baseline's top results and judge every unlabelled pair once")
      .requiredOption('--version <key>', 'the candidate version')
      .option('--baseline <key>', 'the version pooled with it (default: the active version)')
      .requiredOption(
        '--judge <spec>',
        'cross-encoder:<model folder>, openai:<chat model>, or file:<labels.jsonl|csv> (imports human labels)',
      ),
  )
    .option(
      '--thresholds <a,b,c>',
      'cross-encoder: the lowest score of grades 1, 2 and 3 (default: the calibrated ones)',
      thresholdsOption,
    )
    .option('--depth <n>', 'top results pooled per version', intOption(1, 1000), 10)
    .option('--max-pairs <n>', 'judge at most this many pairs', intOption(0, 100_000_000))
    .option('--max-cost <usd>', 'stop cleanly before this much is spent', numberOption(0, 1e9))
    .option('--concurrency <n>', 'judge calls in flight (default 4 remote, 1 local)', intOption(1, 256))
    .option('--rpm <n>', 'requests per minute allowed', intOption(1, 100_000_000))
    .option('--tpm <n>', 'tokens per minute allowed', intOption(1, 1_000_000_000))
    .option('--max-tokens <n>', 'longest judge input in tokens (passages are cut)', intOption(16, 1_000_000))
    .option('--retry-failed', 'judge again the pairs this judge could not grade before')
    .option('--dry-run', 'print the pairs, queries, tokens and estimated cost; write nothing')
    .addHelpText(
      'after',
      `
Pairs already labelled (in the judged set, or by people) and pairs this
judge already graded are never judged again. Examples:
  $ embctl judge --version v2 --judge cross-encoder:./models/ms-marco-MiniLM-L-6-v2
  $ embctl judge --version v2 --judge openai:gpt-4o-mini --max-cost 2 --dry-run
  $ embctl judge --version v2 --from-shadow --since 7d --judge openai:gpt-4o-mini
  $ embctl judge --version v2 --judge file:labels.csv`,
    )
    .action(async (f: JudgeFlags) => {
      const { provider, target } = parseJudgeSpec(f.judge);
      if (provider === 'file') return importCommand(ctx, target, f);
      const db = await ctx.db();
      await requireSchema(db);
      const { candidate, baseline } = await pickVersions(db, f);
      const source = await querySource(f);
      const made = await makeJudge(db.kysely, f.judge, judgeOptions(ctx, f));
      const retriever = createSearchRetriever(db, ctx.encoderDeps());
      const progress = createProgress(ctx.logger);
      let report: JudgeReport | undefined;
      try {
        report = await withSignals(
          (signal, hard) =>
            judgeVersion(db.kysely, {
              candidate,
              baseline,
              source,
              judge: made.judge,
              retriever,
              depth: f.depth,
              dryRun: f.dryRun,
              retryFailed: f.retryFailed,
              maxPairs: f.maxPairs,
              maxCost: f.maxCost,
              concurrency: f.concurrency,
              rpm: f.rpm,
              tpm: f.tpm,
              signal,
              hardSignal: hard,
              actor: ctx.config.actorName,
              onPoolProgress: (done, total) => progress.update(`pooling: ${done}/${total} queries`),
              onProgress: (p) =>
                progress.update(
                  `judging: ${p.done}/${p.total} pairs · ${p.pairsPerSecond.toFixed(1)}/s · ${p.cost.inputTokens.toLocaleString('en-US')} tokens · $${p.cost.usd.toFixed(4)}` +
                    `${p.failed ? ` · ${p.failed} failed` : ''}${p.rateLimited ? ` · ${p.rateLimited}×429` : ''} · ETA ${p.etaSeconds === null ? '?' : formatDuration(p.etaSeconds)}`,
                  { done: p.done, total: p.total },
                ),
            }),
          (r) => {
            progress.done();
            printReport(ctx, r);
          },
        );
      } finally {
        progress.done();
        await retriever.close?.();
        await made.judge.close?.();
      }
      printReport(ctx, report);
      if (report.run?.stoppedBy === 'max-cost' || report.run?.stoppedBy === 'max-pairs')
        ctx.out.line(
          `stopped at --${report.run.stoppedBy}: what was judged is kept; run again (with a larger limit) to go on`,
        );
    });

  sourceOptions(
    judge
      .command('export')
      .description('write the pool with query and passage texts (JSONL or CSV, by extension) for people to label')
      .requiredOption('--version <key>', 'the candidate version')
      .option('--baseline <key>', 'the version pooled with it (default: the active version)')
      .requiredOption('--out <file>', 'where to write: labels.jsonl or labels.csv'),
  )
    .option('--depth <n>', 'top results pooled per version', intOption(1, 1000), 10)
    .action(async (f: SourceFlags & { version: string; baseline?: string; out: string; depth: number }) => {
      const format = labelsFormat(f.out);
      const db = await ctx.db();
      await requireSchema(db);
      const { candidate, baseline } = await pickVersions(db, f);
      const source = await querySource(f);
      const queries =
        source.kind === 'judged-set' ? judgedSetQueries(source.set) : await shadowQueries(db.kysely, candidate, source);
      const keyKind = source.kind === 'judged-set' ? source.set.keyKind : source.keyKind;
      const retriever = createSearchRetriever(db, ctx.encoderDeps());
      try {
        const pool = await buildPool(db.kysely, {
          queries,
          keyKind,
          candidate,
          baseline,
          retriever,
          depth: f.depth,
          judge: HUMAN_JUDGE,
        });
        const passages = await passageTexts(
          db.kysely,
          keyKind,
          pool.pairs.map((p) => p.key),
        );
        writeOutputFile(f.out, formatPool(pool.pairs, keyKind, passages, format), 'pool');
        ctx.out.result({
          out: f.out,
          pairs: pool.pairs.length,
          queries: new Set(pool.pairs.map((p) => p.queryId)).size,
          labelled: pool.labelled,
        });
        ctx.out.line(
          `wrote ${pool.pairs.length} unlabelled pairs of ${new Set(pool.pairs.map((p) => p.queryId)).size} queries to ${f.out} (${pool.labelled} pooled pairs already labelled): fill in "grade" (0–3), then embctl judge import ${f.out}`,
        );
      } finally {
        await retriever.close?.();
      }
    });

  judge
    .command('import <file>')
    .description(
      'import human labels (JSONL or CSV: query or query_id, key, grade 0–3); every bad line is reported, nothing half-imported',
    )
    .option('--judged <path>', 'judged set that query_id refers to (and that every query must belong to)')
    .option('--queries <file>', 'queries file for a TREC qrels --judged file')
    .option('--key <kind>', 'what keys name when a line does not say: document_id or semantic_key')
    .option('--split <name>', 'BEIR folder: which qrels/<split>.tsv')
    .action(async (file: string, f: SourceFlags) => importCommand(ctx, file, f));

  judge
    .command('calibrate')
    .description(
      "measure a judge against people's labels: Cohen's kappa, accuracy, Kendall's tau; fit a cross-encoder's thresholds",
    )
    .requiredOption('--judge <spec>', 'cross-encoder:<model folder> or openai:<chat model>')
    .option('--judged <path>', 'human-labelled judged set (default: the one evals/*.judged.jsonl)')
    .option('--queries <file>', 'queries file for a TREC qrels --judged file')
    .option('--key <kind>', 'document_id or semantic_key')
    .option('--split <name>', 'BEIR folder: which qrels/<split>.tsv')
    .option('--thresholds <a,b,c>', 'cross-encoder: measure these thresholds instead of fitting them', thresholdsOption)
    .option('--max-pairs <n>', 'judge at most this many labelled pairs', intOption(1, 100_000_000))
    .option('--max-cost <usd>', 'stop cleanly before this much is spent', numberOption(0, 1e9))
    .option('--concurrency <n>', 'judge calls in flight', intOption(1, 256))
    .option('--max-tokens <n>', 'longest judge input in tokens', intOption(16, 1_000_000))
    .action(
      async (
        f: SourceFlags & {
          judge: string;
          thresholds?: number[];
          maxPairs?: number;
          maxCost?: number;
          concurrency?: number;
          maxTokens?: number;
        },
      ) => {
        const set = await loadSet(f);
        const db = await ctx.db();
        await requireSchema(db);
        const { provider, target } = parseJudgeSpec(f.judge);
        if (provider === 'file')
          throw new UsageError(`${f.judge} holds labels, not a judge: calibrate a cross-encoder: or openai: judge`);
        let judgeNow: Judge;
        let fit: ((t: number[]) => Promise<Judge>) | undefined;
        if (provider === 'cross-encoder' && !f.thresholds) {
          const scorer = await loadScorer(target, judgeOptions(ctx, f));
          judgeNow = crossEncoderJudge(scorer, [-1e300, 0, 1e300]);
          fit = async (t) => crossEncoderJudge(scorer, t);
        } else
          judgeNow = (await makeJudge(db.kysely, f.judge, { ...judgeOptions(ctx, f), thresholds: f.thresholds })).judge;
        const versions = (await listVersions(db.kysely)).filter(
          (v) => v.state !== 'retired' && v.state !== 'registered',
        );
        const retriever = createSearchRetriever(db, ctx.encoderDeps());
        const progress = createProgress(ctx.logger);
        try {
          const r = await calibrateJudge(db.kysely, {
            judge: judgeNow,
            fit,
            set: limitPairs(set, f.maxPairs),
            versions,
            retriever,
            maxCost: f.maxCost,
            concurrency: f.concurrency,
            actor: ctx.config.actorName,
            onProgress: (p) => progress.update(`calibrating: ${p.done}/${p.total} pairs · $${p.cost.usd.toFixed(4)}`),
          });
          progress.done();
          printCalibration(ctx, r, Boolean(fit));
        } finally {
          progress.done();
          await retriever.close?.();
          await judgeNow.close?.();
        }
      },
    );

  judge
    .command('list')
    .description('judges with stored judgments: graded and failed pairs, latest kappa')
    .action(async () => {
      const db = await ctx.db();
      await requireSchema(db);
      const judges = await judgeCounts(db.kysely);
      const rows = [];
      for (const j of judges) rows.push({ ...j, kappa: (await latestCalibration(db.kysely, j.judge))?.kappa ?? null });
      ctx.out.result({ judges: rows });
      if (rows.length === 0) ctx.out.line('no judgments yet: embctl judge --version <key> --judge <spec>');
      for (const r of rows)
        ctx.out.line(
          `${r.judge}  ${r.graded} graded, ${r.failed} failed  kappa ${r.kappa === null ? 'not calibrated' : r.kappa.toFixed(4)}`,
        );
    });
}
