/** The inputs of `embctl judge`: flags, the versions and queries they name, and label imports. */
import { Command } from 'commander';
import { RefusedError, UsageError } from '../../errors.js';
import { importLabels } from '../../judge/index.js';
import { isKeyKind, loadJudgedSet, type JudgedSet, type KeyKind } from '../../judged-set/index.js';
import { findDefaultJudgedSet } from '../../evaluate/index.js';
import { parseSince } from '../../shadow/index.js';
import { activeVersion, requireVersion, type VersionRow } from '../../versions/index.js';
import type { Db } from '../../db/index.js';
import type { CliContext } from '../context.js';
import { intOption } from '../options.js';
import { requireSchema } from '../schema-guard.js';

export interface SourceFlags {
  judged?: string;
  queries?: string;
  key?: string;
  split?: string;
  fromShadow?: boolean;
  since: string;
  limit?: number;
}

export interface JudgeFlags extends SourceFlags {
  version: string;
  baseline?: string;
  judge: string;
  thresholds?: number[];
  depth: number;
  maxPairs?: number;
  maxCost?: number;
  concurrency?: number;
  rpm?: number;
  tpm?: number;
  maxTokens?: number;
  retryFailed?: boolean;
  dryRun?: boolean;
}

export function thresholdsOption(value: string): number[] {
  const parts = value.split(',').map((s) => Number(s.trim()));
  if (parts.length !== 3 || parts.some((n) => !Number.isFinite(n)))
    throw new UsageError(
      `--thresholds takes three numbers, the lowest score of grades 1, 2 and 3 (e.g. -3,0,3), got "${value}"`,
    );
  return parts;
}

export function sourceOptions(cmd: Command): Command {
  return cmd
    .option('--judged <path>', 'judged set whose queries are pooled (default: the one evals/*.judged.jsonl)')
    .option('--queries <file>', 'queries file (TSV or JSONL) for a TREC qrels --judged file')
    .option('--key <kind>', "what the labels name: document_id or semantic_key (default: the set's, else document_id)")
    .option('--split <name>', 'BEIR folder: which qrels/<split>.tsv (default test)')
    .option('--from-shadow', "pool the queries of the candidate's shadow log (needs shadow start --store-text)")
    .option('--since <duration>', 'with --from-shadow: window, e.g. 24h, 7d (or an ISO date)', '24h')
    .option(
      '--limit <n>',
      'with --from-shadow: most distinct queries, the most frequent first (default 200)',
      intOption(1, 1_000_000),
    );
}

export function judgeOptions(ctx: CliContext, f: { maxTokens?: number; thresholds?: number[] }) {
  const deps = ctx.encoderDeps();
  return {
    thresholds: f.thresholds,
    maxTokens: f.maxTokens,
    cwd: process.cwd(),
    logger: ctx.logger,
    openai: { apiKey: deps.openaiApiKey, baseURL: deps.openaiBaseUrl, env: deps.env },
  };
}

export async function pickVersions(
  db: Db,
  f: { version: string; baseline?: string },
): Promise<{ candidate: VersionRow; baseline: VersionRow | null }> {
  const candidate = await requireVersion(db.kysely, f.version);
  const baseline = f.baseline
    ? await requireVersion(db.kysely, f.baseline)
    : ((await activeVersion(db.kysely)) ?? null);
  for (const v of [candidate, baseline])
    if (v?.state === 'retired')
      throw new RefusedError(`version ${v.version_key} is retired: its vectors may be gone; pool live versions`);
  return { candidate, baseline: baseline && baseline.id !== candidate.id ? baseline : null };
}

export function keyOf(f: SourceFlags): KeyKind | undefined {
  if (f.key === undefined) return undefined;
  if (!isKeyKind(f.key)) throw new UsageError('--key must be document_id or semantic_key');
  return f.key;
}

export async function loadSet(f: SourceFlags): Promise<JudgedSet> {
  return loadJudgedSet(f.judged ?? findDefaultJudgedSet(), { queries: f.queries, keyKind: keyOf(f), split: f.split });
}

export async function querySource(f: SourceFlags) {
  if (f.fromShadow) {
    if (f.judged) throw new UsageError('--from-shadow and --judged pick the queries two ways: give one');
    return { kind: 'shadow' as const, since: parseSince(f.since), limit: f.limit, keyKind: keyOf(f) ?? 'document_id' };
  }
  if (f.limit !== undefined) throw new UsageError('--limit applies to --from-shadow only');
  return { kind: 'judged-set' as const, set: await loadSet(f) };
}

/** Keep the first `max` labelled pairs (in query order) of a set. */
export function limitPairs(set: JudgedSet, max: number | undefined): JudgedSet {
  if (max === undefined) return set;
  let left = max;
  const queries = set.queries.map((q) => {
    const relevant = new Map([...q.relevant].slice(0, Math.max(0, left)));
    left -= relevant.size;
    return { ...q, relevant };
  });
  return { ...set, queries };
}

export async function importCommand(ctx: CliContext, file: string, f: SourceFlags): Promise<void> {
  const set = f.judged ? await loadSet(f) : undefined;
  const db = await ctx.db();
  await requireSchema(db);
  const r = await importLabels(db.kysely, file, {
    keyKind: keyOf(f),
    judgedSet: set,
    actor: ctx.config.actorName,
    spec: `file:${file}`,
  });
  ctx.out.result({ file, labels: r.labels, written: r.written, unlabelled: r.skippedUnlabelled });
  ctx.out.line(
    `imported ${r.labels} human labels from ${file}${r.skippedUnlabelled ? ` (${r.skippedUnlabelled} lines without a grade left out)` : ''}: evaluate now scores with them (label source "human")`,
  );
}
