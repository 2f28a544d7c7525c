/**
 * Comparing a canary's stored vectors with fresh ones, text by text: cosine
 * similarity and the largest absolute difference of one coordinate. Pure.
 */
import type { parseEncoderSpec } from '../../encoders/index.js';

type Provider = ReturnType<typeof parseEncoderSpec>['provider'];

export interface CanaryTolerance {
  /** Every text's cosine to its stored vector must be at least this. */
  minCosine: number;
  /** And no coordinate may move by more than this (null: not checked). */
  maxAbsDiff: number | null;
}

/**
 * The tolerance per encoder kind. `hash:` and `local:` are deterministic on
 * one machine: their vectors must come back exactly (1e-6 absorbs float32
 * rounding; 1e-5 per coordinate for ONNX kernels that differ between CPUs).
 * A hosted `openai:` model is not bit-stable between calls (batching and
 * hardware change the last digits), so each text only has to keep a cosine of
 * 0.999 to its stored vector; a changed model lands far below that.
 */
export const CANARY_TOLERANCE: Record<Provider, CanaryTolerance> = {
  hash: { minCosine: 1 - 1e-6, maxAbsDiff: 1e-6 },
  local: { minCosine: 1 - 1e-6, maxAbsDiff: 1e-5 },
  openai: { minCosine: 0.999, maxAbsDiff: null },
};

export interface TextComparison {
  position: number;
  /** Cosine of the stored and the fresh vector; 0 when their dimensions differ. */
  cosine: number;
  /** Largest |stored[i] - fresh[i]|; Infinity when the dimensions differ. */
  maxAbsDiff: number;
  moved: boolean;
}

export interface CanaryComparison {
  texts: number;
  moved: number;
  minCosine: number;
  meanCosine: number;
  maxAbsDiff: number;
  /** Set when the fresh vectors have another length than the stored ones. */
  dimensionsNow: number | null;
  /** The positions of the moved texts with the lowest cosine first (at most 5). */
  worst: { position: number; cosine: number }[];
  perText: TextComparison[];
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  if (na === 0 || nb === 0) return na === nb ? 1 : 0;
  return dot / Math.sqrt(na * nb);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Compare text by text; `stored[i]` and `fresh[i]` belong to the same text. */
export function compareCanary(
  stored: readonly ArrayLike<number>[],
  fresh: readonly ArrayLike<number>[],
  tolerance: CanaryTolerance,
): CanaryComparison {
  if (stored.length !== fresh.length || stored.length === 0)
    throw new Error(`compareCanary: ${stored.length} stored vectors, ${fresh.length} fresh ones`);
  let dimensionsNow: number | null = null;
  const perText = stored.map((s, position): TextComparison => {
    const f = fresh[position]!;
    if (f.length !== s.length) {
      dimensionsNow = f.length;
      return { position, cosine: 0, maxAbsDiff: Infinity, moved: true };
    }
    const c = cosine(s, f);
    const d = maxAbsDiff(s, f);
    const moved = c < tolerance.minCosine || (tolerance.maxAbsDiff !== null && d > tolerance.maxAbsDiff);
    return { position, cosine: c, maxAbsDiff: d, moved };
  });
  const moved = perText.filter((t) => t.moved);
  return {
    texts: perText.length,
    moved: moved.length,
    minCosine: Math.min(...perText.map((t) => t.cosine)),
    meanCosine: perText.reduce((a, t) => a + t.cosine, 0) / perText.length,
    maxAbsDiff: Math.max(...perText.map((t) => t.maxAbsDiff)),
    dimensionsNow,
    worst: moved
      .slice()
      .sort((a, b) => a.cosine - b.cosine)
      .slice(0, 5)
      .map((t) => ({ position: t.position, cosine: t.cosine })),
    perText,
  };
}
