/**
 * The `cross-encoder:<folder or model id>` judge: a local reranker's raw
 * score (its logit) per (query, passage) pair, graded 0–3 by thresholds.
 * Offline, free (pricing null), deterministic for a given model revision.
 */
import { gradeByThresholds } from '../spec.js';
import type { Judge, JudgeIdentity, JudgeOptions, JudgePair, JudgeVerdict } from '../types.js';
import { checkThresholds, type CrossEncoderJudgeOptions } from './options.js';
import { loadCrossEncoder, type CrossEncoder, type CrossEncoderIdentityBase } from './scorer.js';

/** `cross-encoder:<name>@<revision, 12 hex>/t=<thresholds>`. */
export function crossEncoderJudgeId(base: CrossEncoderIdentityBase, thresholds: readonly number[]): string {
  return `cross-encoder:${base.name}@${base.revision.slice(0, 12)}/t=${thresholds.join(',')}`;
}

/** A judge over an already loaded cross-encoder; closing the judge closes it. */
export function crossEncoderJudge(scorer: CrossEncoder, thresholds: readonly number[]): Judge {
  const base = scorer.identityBase;
  const t = checkThresholds(base.spec.slice('cross-encoder:'.length), thresholds);
  const identity: JudgeIdentity = {
    id: crossEncoderJudgeId(base, t),
    kind: 'cross-encoder',
    spec: base.spec,
    model: base.model,
    revision: base.revision,
    settings: { thresholds: t, ...base.settings },
  };
  return {
    spec: base.spec,
    identity,
    maxBatchPairs: scorer.batchPairs,
    pricing: null,
    countTokens: (pair: JudgePair) => scorer.countTokens(pair),
    async judge(pairs: readonly JudgePair[], options?: JudgeOptions): Promise<JudgeVerdict[]> {
      const scores = await scorer.score(pairs, options);
      return scores.map((raw) =>
        Number.isFinite(raw)
          ? { ok: true, grade: gradeByThresholds(raw, t), raw }
          : { ok: false, reason: `the cross-encoder's score is not a finite number (${raw})` },
      );
    },
    close: () => scorer.close(),
  };
}

/**
 * Make a `cross-encoder:` judge. Thresholds are checked before the model is
 * loaded; see loadCrossEncoder for what else is refused.
 */
export async function createCrossEncoderJudge(target: string, options: CrossEncoderJudgeOptions): Promise<Judge> {
  const thresholds = checkThresholds(target.trim(), options.thresholds);
  return crossEncoderJudge(await loadCrossEncoder(target, options), thresholds);
}
