import { InputError } from '../errors.js';
import type { DistanceMetric } from '../db/index.js';

/**
 * A per-version score calibration, stored in `embedding_versions.calibration`.
 *
 * `quantile`: `points` are `[raw, calibrated]` pairs, raw ascending,
 * calibrated in [0, 1] and non-decreasing, learnt from the distribution of
 * the version's own top-k scores (see `computeCalibration`): a calibrated
 * score of 0.9 means "as close as the best 10% of a typical top-k". That is
 * comparable across versions, unlike the raw score, so `minScore` applies
 * to calibrated scores only.
 */
export interface QuantileCalibration {
  kind: 'quantile';
  points: [number, number][];
  /** Provenance, informative. */
  metric?: DistanceMetric;
  sample?: number;
  k?: number;
  computedAt?: string;
}

export type Calibration = QuantileCalibration;

/** The version's calibration, or null when it has none; a malformed one is an InputError naming the version. */
export function parseCalibration(stored: unknown, versionKey: string): Calibration | null {
  if (stored === null || stored === undefined) return null;
  const bad = (why: string) =>
    new InputError(
      `the calibration stored for version ${versionKey} is invalid (${why}): recompute it with embctl versions calibrate ${versionKey}`,
    );
  const c = stored as Partial<QuantileCalibration>;
  if (typeof c !== 'object' || c.kind !== 'quantile')
    throw bad(`unknown kind ${JSON.stringify((c as { kind?: unknown })?.kind)}`);
  if (!Array.isArray(c.points) || c.points.length < 2) throw bad('needs at least two points');
  let prev: [number, number] | undefined;
  for (const p of c.points) {
    if (!Array.isArray(p) || p.length !== 2 || !p.every((x) => typeof x === 'number' && Number.isFinite(x)))
      throw bad('points must be [raw, calibrated] number pairs');
    if (p[1] < 0 || p[1] > 1) throw bad('calibrated values must be in [0, 1]');
    if (prev && (p[0] < prev[0] || p[1] < prev[1])) throw bad('points must be ascending');
    prev = p as [number, number];
  }
  return c as QuantileCalibration;
}

/** Map a raw score through the calibration: piecewise linear, clamped to the end points. */
export function applyCalibration(c: Calibration, raw: number): number {
  const pts = c.points;
  if (raw <= pts[0]![0]) return pts[0]![1];
  const last = pts[pts.length - 1]!;
  if (raw >= last[0]) return last[1];
  let lo = 0;
  let hi = pts.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (pts[mid]![0] <= raw) lo = mid;
    else hi = mid;
  }
  const [x0, y0] = pts[lo]!;
  const [x1, y1] = pts[hi]!;
  return x1 === x0 ? y1 : y0 + ((raw - x0) / (x1 - x0)) * (y1 - y0);
}

/** Quantile levels at which a calibration keeps a point. */
export const CALIBRATION_LEVELS = [0, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1];

/** Build a quantile calibration from raw scores (any order). */
export function quantileCalibration(
  scores: readonly number[],
  meta: Omit<QuantileCalibration, 'kind' | 'points'> = {},
): QuantileCalibration {
  if (scores.length < 2) throw new InputError('a calibration needs at least two scores: embed more chunks first');
  const s = [...scores].sort((a, b) => a - b);
  const points: [number, number][] = [];
  for (const q of CALIBRATION_LEVELS) {
    const pos = q * (s.length - 1);
    const i = Math.floor(pos);
    const raw = i + 1 < s.length ? s[i]! + (pos - i) * (s[i + 1]! - s[i]!) : s[i]!;
    const prev = points[points.length - 1];
    if (prev && raw <= prev[0]) {
      if (q === 1) prev[1] = 1; // a flat run to the top ends at 1
      continue; // a flat run keeps its lowest level: the minimum maps to 0
    }
    points.push([raw, q]);
  }
  if (points.length < 2) points.push([points[0]![0] + 1e-9, 1]);
  return { kind: 'quantile', points, ...meta };
}
