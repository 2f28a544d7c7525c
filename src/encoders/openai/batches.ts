/** Splitting a list of token counts into consecutive batches that fit a request. */

export interface BatchLimits {
  maxItems: number;
  maxTokens: number;
}

/** A half-open range [start, end) of the input, with its token sum. */
export interface BatchRange {
  start: number;
  end: number;
  tokens: number;
}

/**
 * Greedy, order-preserving: each batch takes texts until the next one would
 * pass maxItems or maxTokens. A single text above maxTokens must be dealt
 * with before (truncated or rejected); it is given a batch of its own.
 */
export function planRequests(tokenCounts: readonly number[], limits: BatchLimits): BatchRange[] {
  const out: BatchRange[] = [];
  let start = 0;
  let tokens = 0;
  for (let i = 0; i < tokenCounts.length; i++) {
    const t = tokenCounts[i]!;
    const items = i - start;
    if (items > 0 && (items >= limits.maxItems || tokens + t > limits.maxTokens)) {
      out.push({ start, end: i, tokens });
      start = i;
      tokens = 0;
    }
    tokens += t;
  }
  if (start < tokenCounts.length) out.push({ start, end: tokenCounts.length, tokens });
  return out;
}
