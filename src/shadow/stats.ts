/** Small descriptive statistics for shadow reports (pure). */

export function mean(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

/**
 * The q-quantile (0 ≤ q ≤ 1) with linear interpolation between order
 * statistics (Hyndman & Fan type 7, the default of numpy and R):
 * h = (n-1)q, value = x[⌊h⌋] + (h-⌊h⌋)(x[⌊h⌋+1] - x[⌊h⌋]).
 */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const x = [...values].sort((a, b) => a - b);
  const h = (x.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, x.length - 1);
  return x[lo]! + (h - lo) * (x[hi]! - x[lo]!);
}

/** Whether a query is sampled: rate 1 takes all, rate 0 none (random() is in [0, 1)). */
export function sampled(rate: number, random: () => number): boolean {
  if (!(rate > 0)) return false;
  if (rate >= 1) return true;
  return random() < rate;
}
