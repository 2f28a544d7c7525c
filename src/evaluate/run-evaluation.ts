/**
 * The whole of `evaluate` as a library call: score the candidate (and the
 * baseline when a comparison or a relative gate needs it), decide the
 * gates, and record the run (with a gate event when gated).
 */
import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/index.js';
import { type JudgedSet } from '../judged-set/index.js';
import { DEFAULT_SEED } from '../stats/index.js';
import { RefusedError } from '../errors.js';
import { coverage, type VersionRow } from '../versions/index.js';
import { applyGates, gatesPassed } from './apply-gates.js';
import { compareEvaluations } from './compare.js';
import { evaluateVersion, type EvaluationProgress } from './evaluate-version.js';
import type { GatesConfig } from './gates-file.js';
import { recordEvaluation } from './record.js';
import type { EvaluationOutcome, LabelsUsed } from './outcome.js';
import { coverageOf, judgeKappas, judgesUsed, labelledSet, resolveJudges } from './labels.js';
import type { OnProgress } from '../util/index.js';
import type { Db } from '../db/index.js';
import type { Retriever } from './types.js';

export interface RunEvaluationOptions {
  candidate: VersionRow;
  /** The version relative gates compare against; null or the candidate itself: none. */
  baseline?: VersionRow | null;
  judgedSet: JudgedSet;
  retriever: Retriever;
  ks?: readonly number[];
  gates?: GatesConfig | null;
  /** `--gate`: the run counts for activation and logs gate_passed / gate_failed. */
  gated?: boolean;
  /** Write to evaluation_runs (default true). */
  record?: boolean;
  actor: string;
  concurrency?: number;
  onProgress?: OnProgress<EvaluationProgress>;
  /** Called with a warning line (e.g. partial coverage). */
  onWarning?: (message: string) => void;
  /**
   * Label sources accepted besides the set's own (`human`, judge ids or
   * specs; `judged-set` alone: none). Default: the gates file's `judges`,
   * else every stored judgment.
   */
  judges?: string[];
  /** trec_eval -J: score judged results only. */
  judgedOnly?: boolean;
}

/** The cutoff coverage is reported at: 10 when evaluated, else the largest cutoff below it, else the smallest. */
function coverageK(ks: readonly number[]): number {
  if (ks.includes(10)) return 10;
  const below = ks.filter((k) => k < 10);
  return below.length ? Math.max(...below) : Math.min(...ks);
}

/** Refuse a version that cannot be searched; warn when it covers only part of the live chunks. */
export async function checkSearchable(db: Kysely<DB>, v: VersionRow, warn?: (m: string) => void): Promise<void> {
  if (v.state === 'retired')
    throw new RefusedError(
      `version ${v.version_key} is retired: its vectors may be gone; evaluate a live version`,
      [],
      { code: 'retired' },
    );
  const cov = await coverage(db);
  const have = cov.byVersion.get(v.id) ?? 0;
  if (have === 0)
    throw new RefusedError(
      `version ${v.version_key} has no vectors yet: run embctl backfill ${v.version_key} first`,
      [],
      { code: 'incomplete' },
    );
  if (have < cov.live)
    warn?.(
      `version ${v.version_key} covers ${have} of ${cov.live} live chunks: results may be worse than after a full backfill (embctl backfill ${v.version_key})`,
    );
}

/**
 * Judged keys the corpus does not hold can never be retrieved: some is a
 * warning, all of them means the set does not fit this corpus (a wrong
 * --key, or another corpus) and every measure would be 0 — refused when
 * the run is gated, since such a gate decides nothing.
 */
export async function checkJudgedKeys(
  db: Kysely<DB>,
  set: JudgedSet,
  gated: boolean,
  warn?: (m: string) => void,
): Promise<void> {
  const keys = [...new Set(set.queries.flatMap((q) => [...q.relevant.keys()]))];
  if (keys.length === 0) return;
  const column = set.keyKind === 'semantic_key' ? sql.ref('semantic_key') : sql.ref('document_id');
  const { rows } = await sql<{ k: string }>`
    select distinct ${column} as k from document_chunks where ${column} = any(${keys}::text[]) and retired_at is null`.execute(
    db,
  );
  const known = new Set(rows.map((r) => r.k));
  const unknown = keys.filter((k) => !known.has(k));
  if (unknown.length === 0) return;
  const what = set.keyKind === 'semantic_key' ? 'chunks (semantic keys)' : 'documents';
  const sample = unknown
    .slice(0, 3)
    .map((k) => JSON.stringify(k))
    .join(', ');
  if (unknown.length === keys.length) {
    const message = `none of the ${keys.length} ${what} judged in ${set.name} is in the corpus (e.g. ${sample}): every measure would be 0; check that the corpus was ingested and that --key matches the set (document_id or semantic_key)`;
    if (gated) throw new RefusedError(message);
    warn?.(message);
    return;
  }
  warn?.(
    `${unknown.length} of the ${keys.length} ${what} judged in ${set.name} are not in the corpus (e.g. ${sample}): they can never be retrieved, which lowers recall`,
  );
}

export async function runEvaluation(from: Db, o: RunEvaluationOptions): Promise<EvaluationOutcome> {
  const db = from.kysely;
  const baselineRow = o.baseline && o.baseline.id !== o.candidate.id ? o.baseline : null;
  const gates = o.gates ?? null;
  const extraMeasures = gates?.gates.map((g) => g.metric) ?? [];
  await checkSearchable(db, o.candidate, o.onWarning);
  await checkJudgedKeys(db, o.judgedSet, Boolean(o.gated), o.onWarning);
  const choice = await resolveJudges(db, o.judges ?? gates?.judges);
  const labelled = await labelledSet(db, o.judgedSet, choice);
  const scoring = { judgedSet: labelled.set, namedSet: o.judgedSet, judgedOnly: o.judgedOnly };
  const candidate = await evaluateVersion({
    version: o.candidate,
    ...scoring,
    retriever: o.retriever,
    ks: o.ks,
    extraMeasures,
    concurrency: o.concurrency,
    onProgress: o.onProgress,
  });
  let baseline = null;
  if (baselineRow) {
    await checkSearchable(db, baselineRow, o.onWarning);
    baseline = await evaluateVersion({
      version: baselineRow,
      ...scoring,
      retriever: o.retriever,
      ks: o.ks,
      extraMeasures,
      concurrency: o.concurrency,
      baseline: true,
      onProgress: o.onProgress,
    });
  }
  const comparisons = baseline
    ? compareEvaluations(candidate, baseline, { confidence: gates?.confidence, seed: gates?.seed ?? DEFAULT_SEED })
    : [];
  const k = coverageK(candidate.ks);
  const coverage = {
    candidate: coverageOf(candidate.run, o.judgedSet, labelled, k),
    baseline: baseline ? coverageOf(baseline.run, o.judgedSet, labelled, k) : null,
  };
  const kappas = await judgeKappas(
    db,
    judgesUsed([coverage.candidate, ...(coverage.baseline ? [coverage.baseline] : [])]),
  );
  const labels: LabelsUsed = {
    judges: choice.judges ?? null,
    counts: labelled.counts,
    judgedOnly: Boolean(o.judgedOnly),
    coverage,
    kappas,
  };
  const outcomes = gates ? applyGates(candidate, baseline, gates, { kappas }) : [];
  const gated = Boolean(o.gated);
  const passed = gates ? gatesPassed(outcomes) : null;
  const report: EvaluationOutcome = {
    candidate,
    baseline,
    comparisons,
    outcomes,
    gatesSource: gates?.source ?? null,
    alpha: gates?.alpha ?? null,
    gated,
    passed,
    runId: null,
    createdAt: new Date(),
    labels,
  };
  if (o.record !== false) {
    const row = await recordEvaluation(db, {
      candidate,
      baseline,
      comparisons: comparisons.filter((c) => c.segment === 'all'),
      outcomes,
      gated,
      gatesSource: gates?.source,
      labels,
      actor: o.actor,
    });
    report.runId = Number(row.id);
    report.createdAt = row.created_at;
  }
  return report;
}
