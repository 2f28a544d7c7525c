import { sublinearTf } from './deterministic-log.js';
import type { FeatureTable } from './feature-table.js';

/**
 * Signed feature hashing: feature h adds ±weight·(1 + ln tf) to bucket
 * (h >>> 1) mod D, the sign taken from bit 0 (not used by the bucket). The
 * sum is L2-normalised and rounded to float32. `acc` is scratch of length D.
 */
export function project(table: FeatureTable, acc: Float64Array): Float32Array {
  const dims = acc.length;
  acc.fill(0);
  table.forEach((hash, weight, count) => {
    const value = Math.fround(weight * sublinearTf(count));
    const bucket = (hash >>> 1) % dims;
    acc[bucket] = acc[bucket]! + ((hash & 1) === 0 ? value : -value);
  });
  let sumSq = 0;
  for (let i = 0; i < dims; i++) sumSq += acc[i]! * acc[i]!;
  const out = new Float32Array(dims);
  if (sumSq === 0) {
    // Every feature cancelled out (vanishingly rare): fall back to a fixed unit vector.
    out[0] = 1;
    return out;
  }
  const norm = Math.sqrt(sumSq);
  for (let i = 0; i < dims; i++) out[i] = Math.fround(acc[i]! / norm);
  return out;
}
