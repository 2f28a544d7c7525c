/**
 * `embctl judge` as a library call: pick the queries, pool the candidate's
 * and the baseline's top results, leave out what is labelled or judged,
 * estimate the cost, and (unless a dry run) judge the rest.
 */
import type { Kysely } from 'kysely';
import type { DB } from '../db/index.js';
import type { Retriever } from '../evaluate/index.js';
import type { Judge, JudgeIdentity } from '../judges/index.js';
import type { JudgedSet, KeyKind } from '../judged-set/index.js';
import { deleteFailed } from '../judgments/index.js';
import type { OnProgress } from '../util/index.js';
import type { VersionRow } from '../versions/index.js';
import { costOfPairs, type JudgeCost } from './cost.js';
import { passageTexts } from './passages.js';
import { buildPool, type Pool } from './pool.js';
import { judgedSetQueries, shadowQueries } from './queries.js';
import { judgePool, type JudgeLimits, type JudgeProgress, type JudgeRunSummary } from './run.js';

export type QuerySource =
  { kind: 'judged-set'; set: JudgedSet } | { kind: 'shadow'; since: Date; limit?: number; keyKind: KeyKind };

export interface JudgeVersionOptions extends JudgeLimits {
  candidate: VersionRow;
  baseline: VersionRow | null;
  source: QuerySource;
  judge: Judge;
  retriever: Retriever;
  /** Top results per version pooled (default 10). */
  depth?: number;
  dryRun?: boolean;
  retryFailed?: boolean;
  actor: string;
  onPoolProgress?: (done: number, total: number) => void;
  onProgress?: OnProgress<JudgeProgress>;
}

export interface JudgeReport {
  judge: JudgeIdentity;
  candidate: string;
  baseline: string | null;
  source: string;
  pool: Omit<Pool, 'pairs' | 'failedPairs'> & { toJudge: number; queriesToJudge: number };
  /** What judging every pair left would cost (tokens, USD at the judge's prices). */
  estimate: JudgeCost;
  /** Null for a dry run. */
  run: JudgeRunSummary | null;
}

export async function judgeVersion(db: Kysely<DB>, o: JudgeVersionOptions): Promise<JudgeReport> {
  const queries =
    o.source.kind === 'judged-set' ? judgedSetQueries(o.source.set) : await shadowQueries(db, o.candidate, o.source);
  const keyKind = o.source.kind === 'judged-set' ? o.source.set.keyKind : o.source.keyKind;
  const pool = await buildPool(db, {
    queries,
    keyKind,
    candidate: o.candidate,
    baseline: o.baseline,
    retriever: o.retriever,
    depth: o.depth ?? 10,
    judge: o.judge.identity.id,
    retryFailed: o.retryFailed,
    onQuery: o.onPoolProgress,
  });
  const passages = await passageTexts(
    db,
    keyKind,
    pool.pairs.map((p) => p.key),
  );
  const pairs = pool.pairs.filter((p) => passages.has(p.key));
  const estimate = costOfPairs(
    o.judge,
    pairs.map((p) => ({ query: p.queryText, passage: passages.get(p.key)! })),
  );
  const { pairs: _p, failedPairs: _f, ...counts } = pool;
  const report: JudgeReport = {
    judge: o.judge.identity,
    candidate: o.candidate.version_key,
    baseline: o.baseline && o.baseline.id !== o.candidate.id ? o.baseline.version_key : null,
    source:
      o.source.kind === 'judged-set'
        ? `judged set ${o.source.set.name}`
        : `shadow log since ${o.source.since.toISOString()}`,
    pool: { ...counts, toJudge: pairs.length, queriesToJudge: new Set(pairs.map((p) => p.queryId)).size },
    estimate,
    run: null,
  };
  if (o.dryRun) return report;
  if (o.retryFailed) await deleteFailed(db, o.judge.identity.id, keyKind, pairs);
  report.run = await judgePool(db, { ...o, keyKind, pairs, passages });
  return report;
}
