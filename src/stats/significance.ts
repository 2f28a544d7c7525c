/**
 * Paired significance statistics over per-query scores of two systems:
 * a two-sided randomization (sign-flip permutation) test and a paired
 * bootstrap percentile confidence interval of the mean difference.
 * Both are seeded, so a report can be reproduced exactly.
 */
import { quantileSorted } from './descriptive.js';
import { InputError } from '../errors.js';
import { createRandom } from './prng.js';

export const DEFAULT_SEED = 20240601;

export interface RandomizationOptions {
  /** Number of random sign assignments. Default 10,000. */
  permutations?: number;
  seed?: number | string;
}

export interface RandomizationResult {
  /** Mean of (a - b) over queries. */
  meanDifference: number;
  /** Two-sided p-value with the +1 correction: (hits + 1) / (permutations + 1). */
  pValue: number;
  permutations: number;
  n: number;
}

export interface BootstrapOptions {
  /** Number of resamples. Default 10,000. */
  resamples?: number;
  /** Confidence level of the percentile interval. Default 0.95. */
  confidence?: number;
  seed?: number | string;
}

export interface BootstrapResult {
  meanDifference: number;
  lower: number;
  upper: number;
  confidence: number;
  resamples: number;
  n: number;
}

/** Per-query differences a[i] - b[i]; throws InputError on mismatched, empty or non-finite input. */
export function pairedDifferences(a: readonly number[], b: readonly number[]): Float64Array {
  const problems: string[] = [];
  if (a.length !== b.length)
    problems.push(`the two systems have ${a.length} and ${b.length} values; they must be paired`);
  if (a.length === 0) problems.push('no paired values to compare');
  const n = Math.min(a.length, b.length);
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (!Number.isFinite(x) || !Number.isFinite(y))
      problems.push(`pair ${i}: values ${x} and ${y} must be finite numbers`);
    d[i] = x - y;
  }
  if (problems.length) throw new InputError('Cannot compare the two systems', problems);
  return d;
}

function mean(d: Float64Array): number {
  let s = 0;
  for (let i = 0; i < d.length; i++) s += d[i]!;
  return s / d.length;
}

function positiveInt(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 1) throw new InputError(`${name} must be a positive integer, not ${v}`);
  return v;
}

/** Two-sided paired randomization test of H0: mean(a - b) = 0, flipping the sign of each difference at random. */
export function randomizationTest(
  a: readonly number[],
  b: readonly number[],
  options: RandomizationOptions = {},
): RandomizationResult {
  const d = pairedDifferences(a, b);
  const permutations = positiveInt('permutations', options.permutations ?? 10_000);
  const rng = createRandom(options.seed ?? DEFAULT_SEED);
  const n = d.length;
  const observedSum = d.reduce((s, x) => s + x, 0);
  const observed = Math.abs(observedSum);
  // Tolerance so that sums equal up to rounding (e.g. identical systems) count as "as extreme".
  const eps =
    1e-9 *
    Math.max(
      1,
      d.reduce((s, x) => s + Math.abs(x), 0),
    );
  let hits = 0;
  for (let p = 0; p < permutations; p++) {
    let s = 0;
    let bits = 0;
    for (let i = 0; i < n; i++) {
      if ((i & 31) === 0) bits = rng.nextUint32();
      s += bits & 1 ? d[i]! : -d[i]!;
      bits >>>= 1;
    }
    if (Math.abs(s) >= observed - eps) hits++;
  }
  return { meanDifference: observedSum / n, pValue: (hits + 1) / (permutations + 1), permutations, n };
}

/** Paired bootstrap: resample queries with replacement, percentile interval of the mean difference. */
export function bootstrapConfidenceInterval(
  a: readonly number[],
  b: readonly number[],
  options: BootstrapOptions = {},
): BootstrapResult {
  const d = pairedDifferences(a, b);
  const resamples = positiveInt('resamples', options.resamples ?? 10_000);
  const confidence = options.confidence ?? 0.95;
  if (!(confidence > 0 && confidence < 1))
    throw new InputError(`confidence must be between 0 and 1, not ${confidence}`);
  const rng = createRandom(options.seed ?? DEFAULT_SEED);
  const n = d.length;
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += d[rng.nextInt(n)]!;
    means[r] = s / n;
  }
  means.sort();
  const alpha = 1 - confidence;
  return {
    meanDifference: mean(d),
    lower: quantileSorted(means, alpha / 2),
    upper: quantileSorted(means, 1 - alpha / 2),
    confidence,
    resamples,
    n,
  };
}

/**
 * Align two per-query score maps (e.g. one measure of two evaluations) by query id.
 * Throws InputError listing the queries that only one side has.
 */
export function alignByQuery(
  a: ReadonlyMap<string, number>,
  b: ReadonlyMap<string, number>,
): { qids: string[]; a: number[]; b: number[] } {
  const problems: string[] = [];
  for (const q of a.keys()) if (!b.has(q)) problems.push(`query "${q}" is scored only by the first system`);
  for (const q of b.keys()) if (!a.has(q)) problems.push(`query "${q}" is scored only by the second system`);
  if (problems.length) throw new InputError('The two systems were not scored on the same queries', problems);
  const qids = [...a.keys()].sort();
  return { qids, a: qids.map((q) => a.get(q)!), b: qids.map((q) => b.get(q)!) };
}
