/**
 * From a judge spec to a judge. A cross-encoder needs thresholds to turn
 * its scores into grades: given (`--thresholds`), or the ones `judge
 * calibrate` fitted for this model revision; without either it is refused
 * with the command that fits them.
 */
import type { Kysely } from 'kysely';
import type { DB } from '../db/index.js';
import { InputError, UsageError } from '../errors.js';
import {
  createOpenAIJudge,
  crossEncoderJudge,
  loadCrossEncoder,
  parseJudgeSpec,
  type CrossEncoder,
  type Judge,
} from '../judges/index.js';
import { latestCalibrationOfBase } from '../judgments/index.js';
import type { Logger } from '../log/index.js';

export interface MakeJudgeOptions {
  thresholds?: number[];
  /** Relative model folders resolve against this. */
  cwd?: string;
  /** Longest input a judge reads, in tokens. */
  maxTokens?: number;
  allowRemote?: boolean;
  logger?: Logger;
  openai?: { apiKey?: string; baseURL?: string; fetch?: typeof fetch; env?: Record<string, string | undefined> };
}

export interface MadeJudge {
  judge: Judge;
  /** Where a cross-encoder's thresholds came from. */
  thresholds: 'given' | 'calibrated' | null;
}

/** `cross-encoder:<name>@<revision 12 hex>`: what a cross-encoder's calibrations are found by. */
export function crossEncoderBase(scorer: CrossEncoder): string {
  const b = scorer.identityBase;
  return `cross-encoder:${b.name}@${b.revision.slice(0, 12)}`;
}

export async function loadScorer(target: string, o: MakeJudgeOptions): Promise<CrossEncoder> {
  return loadCrossEncoder(target, {
    cwd: o.cwd,
    allowRemote: o.allowRemote,
    maxTokens: o.maxTokens,
    logger: o.logger,
  });
}

export async function makeJudge(db: Kysely<DB>, spec: string, o: MakeJudgeOptions = {}): Promise<MadeJudge> {
  const { provider, target } = parseJudgeSpec(spec);
  if (provider === 'file')
    throw new UsageError(
      `${spec} holds labels, not a judge: embctl judge import ${target} (or --judge ${spec} to import it)`,
    );
  if (provider === 'cross-encoder') {
    const scorer = await loadScorer(target, o);
    try {
      if (o.thresholds) return { judge: crossEncoderJudge(scorer, o.thresholds), thresholds: 'given' };
      const base = crossEncoderBase(scorer);
      const cal = await latestCalibrationOfBase(db, base);
      if (cal?.thresholds) return { judge: crossEncoderJudge(scorer, cal.thresholds), thresholds: 'calibrated' };
      throw new InputError(
        `${spec} has no thresholds to turn its scores into grades 0–3: fit them on people's labels (embctl judge calibrate --judge ${spec} --judged <human-labelled set>), or give --thresholds <grade-1,grade-2,grade-3 scores>`,
      );
    } catch (e) {
      await scorer.close();
      throw e;
    }
  }
  const judge = await createOpenAIJudge(target, {
    apiKey: o.openai?.apiKey,
    baseURL: o.openai?.baseURL,
    fetch: o.openai?.fetch,
    env: o.openai?.env,
    maxTokens: o.maxTokens,
    logger: o.logger,
    spec,
  });
  return { judge, thresholds: null };
}
