/**
 * `embctl judge calibrate`: let a judge grade pairs people already graded,
 * and measure how far to trust it — Cohen's kappa (quadratic-weighted) and
 * accuracy against the human grades, Kendall's tau between the version
 * rankings (nDCG@10) under human and under judge labels when several
 * versions exist, and for a cross-encoder the thresholds that map its
 * scores to grades (fitted here unless given). The result is stored with
 * the judge's identity; gates can require a minimum kappa.
 */
import type { Kysely } from 'kysely';
import type { DB } from '../db/index.js';
import { RefusedError } from '../errors.js';
import { evaluateVersion, scoreJudgedRun, type Retriever } from '../evaluate/index.js';
import { MAX_JUDGE_GRADE, gradeByThresholds, type Judge, type JudgeIdentity, type JudgePair } from '../judges/index.js';
import { makeJudgedSet, type JudgedSet } from '../judged-set/index.js';
import { recordCalibration } from '../judgments/index.js';
import { accuracy, cohensKappa, kendallTau } from '../stats/index.js';
import type { VersionRow } from '../versions/index.js';
import { passageTexts } from './passages.js';
import { judgeBatches, type JudgeLimits, type JudgeRunSummary } from './run.js';
import { fitThresholds } from './thresholds.js';

export interface CalibrateOptions extends JudgeLimits {
  judge: Judge;
  /**
   * For a cross-encoder whose thresholds were not given: fit them, and make
   * the judge they define (its identity is what gets stored).
   */
  fit?: (thresholds: number[]) => Promise<Judge>;
  set: JudgedSet;
  /** Versions to rank for Kendall's tau (two or more with vectors). */
  versions: readonly VersionRow[];
  retriever: Retriever;
  actor: string;
}

export interface CalibrationResult {
  judge: JudgeIdentity;
  judgedSet: { name: string; sha256: string };
  pairs: number;
  failed: number;
  kappa: number;
  accuracy: number;
  /** confusion[human][judge]. */
  confusion: number[][];
  thresholds: number[] | null;
  kendallTau: number | null;
  versions: Array<{ key: string; human: number; judge: number }>;
  run: JudgeRunSummary;
  calibrationId: number;
}

const clampGrade = (g: number) => Math.max(0, Math.min(MAX_JUDGE_GRADE, g));

export async function calibrateJudge(db: Kysely<DB>, o: CalibrateOptions): Promise<CalibrationResult> {
  const items = o.set.queries.flatMap((q) => [...q.relevant].map(([key, grade]) => ({ q, key, grade })));
  if (items.length === 0)
    throw new RefusedError(`judged set ${o.set.name} has no labelled pairs: calibrate against a set people graded`);
  const passages = await passageTexts(
    db,
    o.set.keyKind,
    items.map((i) => i.key),
  );
  const present = items.filter((i) => passages.has(i.key));
  if (present.length === 0)
    throw new RefusedError(
      `none of the keys judged in ${o.set.name} is in the corpus: ingest the corpus the set was judged on, or check --key`,
    );
  const pairs: JudgePair[] = present.map((i) => ({ query: i.q.text, passage: passages.get(i.key)! }));
  const raw: Array<number | null> = new Array(pairs.length).fill(null);
  const grades: Array<number | null> = new Array(pairs.length).fill(null);
  const run = await judgeBatches(o.judge, pairs, o, async (from, verdicts) => {
    verdicts.forEach((v, i) => {
      if (!v.ok) return;
      raw[from + i] = v.raw;
      grades[from + i] = v.grade;
    });
  });
  const graded = present.map((item, i) => ({ item, raw: raw[i], grade: grades[i] })).filter((x) => x.grade !== null);
  if (graded.length === 0)
    throw new RefusedError(
      `the judge graded none of the ${pairs.length} pairs${run.failures.length ? `: ${run.failures[0]}` : ''}`,
    );
  let judge = o.judge;
  let thresholds: number[] | null = null;
  let judgeGrades = graded.map((x) => x.grade!);
  if (o.fit) {
    thresholds = fitThresholds(
      graded.map((x) => x.raw!),
      graded.map((x) => clampGrade(x.item.grade)),
    );
    judge = await o.fit(thresholds);
    judgeGrades = graded.map((x) => gradeByThresholds(x.raw!, thresholds!));
  } else if (o.judge.identity.kind === 'cross-encoder') {
    thresholds = (o.judge.identity.settings.thresholds as number[] | undefined) ?? null;
  }
  const human = graded.map((x) => clampGrade(x.item.grade));
  const kappa = cohensKappa(human, judgeGrades, MAX_JUDGE_GRADE);
  const acc = accuracy(human, judgeGrades);
  const confusion = Array.from({ length: MAX_JUDGE_GRADE + 1 }, () => new Array<number>(MAX_JUDGE_GRADE + 1).fill(0));
  human.forEach((h, i) => confusion[h]![judgeGrades[i]!]!++);

  // Kendall's tau of the version rankings under human and judge labels (same pairs).
  const judgeSet = makeJudgedSet({
    name: `${o.set.name} (${judge.identity.id})`,
    description: null,
    keyKind: o.set.keyKind,
    source: o.set.source,
    queries: o.set.queries.map((q) => ({ ...q, relevant: new Map<string, number>() })),
  });
  const byId = new Map(judgeSet.queries.map((q) => [q.id, q]));
  graded.forEach((x, i) => byId.get(x.item.q.id)!.relevant.set(x.item.key, judgeGrades[i]!));
  const versions: CalibrationResult['versions'] = [];
  if (o.versions.length >= 2) {
    for (const v of o.versions) {
      const e = await evaluateVersion({ version: v, judgedSet: o.set, retriever: o.retriever, ks: [10] });
      const underJudge = scoreJudgedRun(judgeSet, e.run, ['ndcg_cut_10']);
      versions.push({
        key: v.version_key,
        human: e.overall.values.ndcg_cut_10!,
        judge: underJudge.overall.values.ndcg_cut_10!,
      });
    }
  }
  const tau =
    versions.length >= 2
      ? kendallTau(
          versions.map((v) => v.human),
          versions.map((v) => v.judge),
        )
      : null;
  const row = await recordCalibration(db, {
    judge: judge.identity.id,
    judgeBase: baseOf(judge.identity),
    judgeSpec: judge.identity.spec,
    judgedSetName: o.set.name,
    judgedSetSha256: o.set.sha256,
    pairs: graded.length,
    kappa,
    accuracy: acc,
    kendallTau: Number.isFinite(tau) ? tau : null,
    thresholds,
    details: { confusion, versions, failed: run.failed },
    actor: o.actor,
  });
  return {
    judge: judge.identity,
    judgedSet: { name: o.set.name, sha256: o.set.sha256 },
    pairs: graded.length,
    failed: run.failed,
    kappa,
    accuracy: acc,
    confusion,
    thresholds,
    kendallTau: tau !== null && Number.isFinite(tau) ? tau : null,
    versions,
    run,
    calibrationId: Number(row.id),
  };
}

/** A judge's identity without its thresholds: what a fitted calibration is found by. */
export function baseOf(identity: JudgeIdentity): string {
  const slash = identity.kind === 'cross-encoder' ? identity.id.lastIndexOf('/t=') : -1;
  return slash < 0 ? identity.id : identity.id.slice(0, slash);
}
