/**
 * Agreement between two raters and between two rankings: Cohen's kappa
 * (unweighted, or quadratic-weighted for ordered grades), accuracy, and
 * Kendall's tau-b. Pure.
 */

/**
 * Cohen's kappa of paired grades 0..maxGrade. `weights: 'quadratic'` gives
 * the weighted kappa of ordinal grades (a 0 against a 3 costs nine times a
 * 2 against a 3), as used to compare relevance assessors. 1 when both
 * raters agree everywhere and the expected disagreement is 0.
 */
export function cohensKappa(
  a: readonly number[],
  b: readonly number[],
  maxGrade: number,
  weights: 'none' | 'quadratic' = 'quadratic',
): number {
  if (a.length !== b.length) throw new Error('cohensKappa: the two raters must grade the same items');
  const n = a.length;
  if (n === 0) return NaN;
  const m = maxGrade + 1;
  const observed = Array.from({ length: m }, () => new Array<number>(m).fill(0));
  const ra = new Array<number>(m).fill(0);
  const rb = new Array<number>(m).fill(0);
  for (let i = 0; i < n; i++) {
    const x = clamp(a[i]!, maxGrade);
    const y = clamp(b[i]!, maxGrade);
    observed[x]![y]!++;
    ra[x]!++;
    rb[y]!++;
  }
  const w = (i: number, j: number) =>
    weights === 'quadratic' ? ((i - j) * (i - j)) / ((m - 1) * (m - 1) || 1) : i === j ? 0 : 1;
  let po = 0;
  let pe = 0;
  for (let i = 0; i < m; i++)
    for (let j = 0; j < m; j++) {
      po += (w(i, j) * observed[i]![j]!) / n;
      pe += (w(i, j) * ra[i]! * rb[j]!) / (n * n);
    }
  if (pe === 0) return po === 0 ? 1 : 0;
  return 1 - po / pe;
}

/** Share of items graded alike. */
export function accuracy(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new Error('accuracy: the two raters must grade the same items');
  if (a.length === 0) return NaN;
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

/** Kendall's tau-b of two scorings of the same items (ties handled). NaN for fewer than two items. */
export function kendallTau(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length) throw new Error('kendallTau: the two scorings must cover the same items');
  let concordant = 0;
  let discordant = 0;
  let tiesX = 0;
  let tiesY = 0;
  for (let i = 0; i < x.length; i++)
    for (let j = i + 1; j < x.length; j++) {
      const dx = Math.sign(x[i]! - x[j]!);
      const dy = Math.sign(y[i]! - y[j]!);
      if (dx === 0 && dy === 0) continue;
      if (dx === 0) tiesX++;
      else if (dy === 0) tiesY++;
      else if (dx === dy) concordant++;
      else discordant++;
    }
  const denom = Math.sqrt((concordant + discordant + tiesX) * (concordant + discordant + tiesY));
  return denom === 0 ? NaN : (concordant - discordant) / denom;
}

function clamp(g: number, max: number): number {
  if (!Number.isInteger(g) || g < 0) return 0;
  return g > max ? max : g;
}
