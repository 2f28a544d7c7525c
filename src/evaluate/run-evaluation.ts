/**
 * The whole of `evaluate` as a library call: score the candidate (and the
 * baseline when a comparison or a relative gate needs it), decide the
 * gates, and record the run (with a gate event when gated).
 */
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import { DEFAULT_SEED, type JudgedSet } from '../eval/index.js';
import { RefusedError } from '../errors.js';
import { coverage, type VersionRow } from '../versions/store.js';
import { applyGates, gatesPassed } from './apply-gates.js';
import { compareEvaluations } from './compare.js';
import { evaluateVersion } from './evaluate-version.js';
import type { GatesConfig } from './gates-file.js';
import { recordEvaluation } from './record.js';
import type { EvaluationReport } from './report.js';
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
  onProgress?: (phase: string, done: number, total: number) => void;
  /** Called with a warning line (e.g. partial coverage). */
  onWarning?: (message: string) => void;
}

/** Refuse a version that cannot be searched; warn when it covers only part of the live chunks. */
export async function checkSearchable(db: Kysely<DB>, v: VersionRow, warn?: (m: string) => void): Promise<void> {
  if (v.state === 'retired') throw new RefusedError(`version ${v.version_key} is retired: its vectors may be gone; evaluate a live version`);
  const cov = await coverage(db);
  const have = cov.byVersion.get(v.id) ?? 0;
  if (have === 0) throw new RefusedError(`version ${v.version_key} has no vectors yet: run embctl backfill ${v.version_key} first`);
  if (have < cov.live) warn?.(`version ${v.version_key} covers ${have} of ${cov.live} live chunks: results may be worse than after a full backfill (embctl backfill ${v.version_key})`);
}

export async function runEvaluation(db: Kysely<DB>, o: RunEvaluationOptions): Promise<EvaluationReport> {
  const baselineRow = o.baseline && o.baseline.id !== o.candidate.id ? o.baseline : null;
  const gates = o.gates ?? null;
  const extraMeasures = gates?.gates.map((g) => g.metric) ?? [];
  await checkSearchable(db, o.candidate, o.onWarning);
  const candidate = await evaluateVersion({
    version: o.candidate, judgedSet: o.judgedSet, retriever: o.retriever, ks: o.ks, extraMeasures, concurrency: o.concurrency,
    onProgress: (d, t) => o.onProgress?.(o.candidate.version_key, d, t),
  });
  let baseline = null;
  if (baselineRow) {
    await checkSearchable(db, baselineRow, o.onWarning);
    baseline = await evaluateVersion({
      version: baselineRow, judgedSet: o.judgedSet, retriever: o.retriever, ks: o.ks, extraMeasures, concurrency: o.concurrency,
      onProgress: (d, t) => o.onProgress?.(`${baselineRow.version_key} (baseline)`, d, t),
    });
  }
  const comparisons = baseline
    ? compareEvaluations(candidate, baseline, { confidence: gates?.confidence, seed: gates?.seed ?? DEFAULT_SEED })
    : [];
  const outcomes = gates ? applyGates(candidate, baseline, gates) : [];
  const gated = Boolean(o.gated);
  const passed = gates ? gatesPassed(outcomes) : null;
  const report: EvaluationReport = {
    candidate, baseline, comparisons, outcomes, gatesSource: gates?.source ?? null, alpha: gates?.alpha ?? null,
    gated, passed, runId: null, createdAt: new Date(),
  };
  if (o.record !== false) {
    const row = await recordEvaluation(db, {
      candidate, baseline, comparisons: comparisons.filter((c) => c.segment === 'all'), outcomes, gated,
      gatesSource: gates?.source, actor: o.actor,
    });
    report.runId = Number(row.id);
    report.createdAt = row.created_at;
  }
  return report;
}
