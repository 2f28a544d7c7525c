/**
 * The options of a `cross-encoder:` judge or scorer, checked up front: bad
 * values are one InputError listing every problem.
 */
import { InputError } from '../../errors.js';
import type { Logger } from '../../log/index.js';
import { thresholdsProblem } from '../spec.js';

/** Pairs one model run carries, unless the caller says. */
export const DEFAULT_BATCH_PAIRS = 32;

export interface CrossEncoderLoadOptions {
  /** Relative folders are resolved against this. Default `process.cwd()`. */
  cwd?: string;
  /** Download a model id that is not on disk (into `cacheDir`). Default false: offline. */
  allowRemote?: boolean;
  /** Where model ids are looked up (`<cacheDir>/<id>/`) and downloaded to. Default the local encoder's cache dir. */
  cacheDir?: string;
  /** Longest (query, passage) input in tokens; capped by the model's own limit, which is also the default. */
  maxTokens?: number;
  /** Pairs one model run carries. Default 32. */
  batchPairs?: number;
  logger?: Logger;
}

export interface CrossEncoderJudgeOptions extends CrossEncoderLoadOptions {
  /** The lowest raw score of grades 1, 2 and 3, ascending (`judge calibrate` finds them). */
  thresholds: number[];
}

function positiveIntProblem(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'number' && Number.isInteger(value) && value > 0
    ? undefined
    : `${name} must be a positive integer (got ${String(value)})`;
}

/** Throws one InputError naming every bad option of a scorer. */
export function checkLoadOptions(target: string, options: CrossEncoderLoadOptions): void {
  const problems = [
    positiveIntProblem('maxTokens', options.maxTokens),
    positiveIntProblem('batchPairs', options.batchPairs),
  ].filter((p): p is string => p !== undefined);
  if (problems.length) throw new InputError(`cross-encoder:${target}: ${problems.join('; ')}`);
}

/** Throws an InputError for thresholds that cannot grade (see thresholdsProblem); returns a copy. */
export function checkThresholds(target: string, thresholds: readonly number[]): number[] {
  const numbers = Array.isArray(thresholds) && thresholds.every((t) => typeof t === 'number');
  const problem = thresholdsProblem(numbers ? thresholds : []);
  if (problem) throw new InputError(`cross-encoder:${target}: ${problem}`);
  return [...thresholds];
}
