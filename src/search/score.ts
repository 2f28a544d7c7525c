import type { DistanceMetric } from '../db/index.js';

/**
 * A similarity from a pgvector distance, larger is better, per metric:
 *
 *  - cosine (`<=>`, 1 − cos θ, in [0, 2]): score = 1 − distance = cos θ, in [−1, 1];
 *  - ip (`<#>`, the negative inner product): score = −distance = a·b
 *    (equal to cos θ for the unit vectors `ip` versions require);
 *  - l2 (`<->`, Euclidean distance ≥ 0): score = 1 / (1 + distance), in (0, 1];
 *  - hamming (`<~>`, bits that differ, derived bit versions): score = −distance.
 *
 * These raw scores are NOT comparable across versions (0.85 from one model
 * is not 0.85 from another); thresholds go through a version's calibration.
 */
export function scoreFromDistance(metric: DistanceMetric, distance: number): number {
  switch (metric) {
    case 'cosine':
      return 1 - distance;
    case 'ip':
      return -distance;
    case 'l2':
      return 1 / (1 + distance);
    case 'hamming':
      return -distance;
  }
}
