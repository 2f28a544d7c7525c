/**
 * Fit a cross-encoder's score thresholds to people's grades: the three cut
 * points (lowest score of grades 1, 2 and 3) that maximize the
 * quadratic-weighted kappa against the human grades. Starts from the cuts
 * that reproduce the human grade distribution, then improves one threshold
 * at a time over candidate cut points (midpoints between distinct scores,
 * thinned to at most 256) until no move helps.
 */
import { MAX_JUDGE_GRADE, gradeByThresholds } from '../judges/index.js';
import { cohensKappa } from '../stats/index.js';

const MAX_CANDIDATES = 256;

export function fitThresholds(scores: readonly number[], human: readonly number[]): number[] {
  if (scores.length !== human.length || scores.length === 0)
    throw new Error('fitThresholds: one human grade per score');
  const sorted = [...new Set(scores)].sort((a, b) => a - b);
  const span = Math.max(1e-6, (sorted[sorted.length - 1]! - sorted[0]!) / 1000);
  let cuts: number[] = [sorted[0]! - span];
  for (let i = 1; i < sorted.length; i++) cuts.push((sorted[i - 1]! + sorted[i]!) / 2);
  cuts.push(sorted[sorted.length - 1]! + span);
  if (cuts.length > MAX_CANDIDATES) {
    const step = (cuts.length - 1) / (MAX_CANDIDATES - 1);
    cuts = Array.from({ length: MAX_CANDIDATES }, (_, i) => cuts[Math.round(i * step)]!);
  }
  const kappaOf = (t: number[]) =>
    cohensKappa(
      scores.map((s) => gradeByThresholds(s, t)),
      human.map((h) => Math.max(0, Math.min(MAX_JUDGE_GRADE, h))),
      MAX_JUDGE_GRADE,
    );
  // Start: reproduce the human grade distribution.
  const byScore = [...scores].sort((a, b) => a - b);
  let t = [1, 2, 3].map((g) => {
    const below = human.filter((h) => h < g).length;
    return below >= byScore.length
      ? cuts[cuts.length - 1]! + span * (g + 1)
      : nearestCut(cuts, byScore[below]! - span / 2);
  });
  t = ascending(t, span);
  let best = kappaOf(t);
  for (let round = 0; round < 20; round++) {
    let improved = false;
    for (let i = 0; i < 3; i++) {
      const lo = i === 0 ? -Infinity : t[i - 1]!;
      const hi = i === 2 ? Infinity : t[i + 1]!;
      for (const c of cuts) {
        if (!(c > lo && c < hi) || c === t[i]) continue;
        const trial = [...t];
        trial[i] = c;
        const k = kappaOf(trial);
        if (k > best + 1e-12) {
          best = k;
          t = trial;
          improved = true;
        }
      }
    }
    if (!improved) break;
  }
  return rounded(t);
}

/** Thresholds rounded to 3 decimals (they name the judge), kept strictly ascending. */
function rounded(t: readonly number[]): number[] {
  const out = t.map((x) => Math.round(x * 1000) / 1000);
  for (let i = 1; i < out.length; i++) if (out[i]! <= out[i - 1]!) out[i] = out[i - 1]! + 0.001;
  return out.map((x) => Math.round(x * 1000) / 1000);
}

function nearestCut(cuts: readonly number[], x: number): number {
  let best = cuts[0]!;
  for (const c of cuts) if (Math.abs(c - x) < Math.abs(best - x)) best = c;
  return best;
}

/** Make thresholds strictly ascending (equal cuts are nudged apart by `eps`). */
function ascending(t: number[], eps: number): number[] {
  const out = [...t].sort((a, b) => a - b);
  for (let i = 1; i < out.length; i++) if (out[i]! <= out[i - 1]!) out[i] = out[i - 1]! + eps;
  return out;
}
