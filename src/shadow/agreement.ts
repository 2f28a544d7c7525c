/**
 * Agreement between two ranked lists of chunk ids (primary vs candidate):
 * overlap@K, Jaccard of the top-K sets, and extrapolated rank-biased overlap
 * (RBO_ext, Webber, Moffat & Zobel 2010, eq. 32). Pure functions.
 *
 * Conventions: lists are deduplicated (first occurrence wins) and cut at K.
 * Two empty lists agree perfectly (every measure is 1); one empty list
 * against a non-empty one is 0.
 */

export const RBO_P = 0.9;

export interface Agreement {
  /** |A ∩ B| / K (K shrinks to the longer list when both are shorter than K). */
  overlapAtK: number;
  /** |A ∩ B| / |A ∪ B| of the two top-K sets. */
  jaccard: number;
  /** RBO_ext with persistence p (default 0.9). */
  rbo: number;
}

/** Top-K of a ranking without repeats. */
export function topK<T>(list: readonly T[], k: number): T[] {
  const seen = new Set<T>();
  const out: T[] = [];
  for (const x of list) {
    if (out.length >= k) break;
    if (seen.has(x)) continue;
    seen.add(x);
    out.push(x);
  }
  return out;
}

function intersectionSize<T>(a: readonly T[], b: readonly T[]): number {
  const sb = new Set(b);
  let n = 0;
  for (const x of new Set(a)) if (sb.has(x)) n++;
  return n;
}

/**
 * overlap@K = |top-K(a) ∩ top-K(b)| / K. When both lists hold fewer than K
 * items (a corpus smaller than K, a filter), the denominator is the longer
 * list's length, so two identical short lists score 1 rather than len/K.
 */
export function overlapAtK<T>(a: readonly T[], b: readonly T[], k: number): number {
  assertK(k);
  const ta = topK(a, k);
  const tb = topK(b, k);
  const denom = Math.min(k, Math.max(ta.length, tb.length));
  if (denom === 0) return 1;
  return intersectionSize(ta, tb) / denom;
}

/** Jaccard similarity of the two top-K sets. */
export function jaccardAtK<T>(a: readonly T[], b: readonly T[], k: number): number {
  assertK(k);
  const ta = topK(a, k);
  const tb = topK(b, k);
  const inter = intersectionSize(ta, tb);
  const union = ta.length + tb.length - inter;
  return union === 0 ? 1 : inter / union;
}

/**
 * Extrapolated rank-biased overlap (Webber et al. 2010, eq. 32) of two
 * finite rankings, possibly of different lengths. With S the shorter list
 * (length s), L the longer (length l) and X_d = |S_{:d} ∩ L_{:d}|:
 *
 *   RBO_ext = (1-p)/p · [ Σ_{d=1..l} X_d/d · p^d + Σ_{d=s+1..l} X_s(d-s)/(s·d) · p^d ]
 *             + [ (X_l - X_s)/l + X_s/s ] · p^l
 *
 * (for d > s, S_{:d} is all of S). Identical lists give 1, disjoint lists 0,
 * and a list that is a prefix of the other gives 1.
 */
export function rankBiasedOverlap<T>(a: readonly T[], b: readonly T[], p: number = RBO_P): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`RBO persistence p must be in (0, 1), got ${p}`);
  const A = topK(a, Infinity);
  const B = topK(b, Infinity);
  const [S, L] = A.length <= B.length ? [A, B] : [B, A];
  const s = S.length;
  const l = L.length;
  if (l === 0) return 1;
  if (s === 0) return 0;

  const inS = new Set<T>();
  const inL = new Set<T>();
  let x = 0; // X_d
  let xs = 0; // X_s
  let sum = 0;
  let pd = 1;
  for (let d = 1; d <= l; d++) {
    pd *= p;
    const fromL = L[d - 1] as T;
    if (d <= s) {
      const fromS = S[d - 1] as T;
      if (fromS === fromL) x += 1;
      else {
        if (inL.has(fromS)) x += 1;
        if (inS.has(fromL)) x += 1;
      }
      inS.add(fromS);
      inL.add(fromL);
      if (d === s) xs = x;
    } else {
      // S is exhausted: only L's new item can add to the overlap.
      if (inS.has(fromL)) x += 1;
      sum += ((xs * (d - s)) / (s * d)) * pd;
    }
    sum += (x / d) * pd;
  }
  const xl = x;
  const value = ((1 - p) / p) * sum + ((xl - xs) / l + xs / s) * pd;
  // Floating error can put identical lists a hair off 1.
  return Math.min(1, Math.max(0, value));
}

/** All three measures of the top-K of a primary and a candidate ranking. */
export function agreement<T>(primary: readonly T[], candidate: readonly T[], k: number, p: number = RBO_P): Agreement {
  const a = topK(primary, k);
  const b = topK(candidate, k);
  return { overlapAtK: overlapAtK(a, b, k), jaccard: jaccardAtK(a, b, k), rbo: rankBiasedOverlap(a, b, p) };
}

function assertK(k: number): void {
  if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`K must be a whole number >= 1, got ${k}`);
}
