/**
 * From retrieved chunks to the ranked list that is scored: chunks as they
 * are (`semantic_key` sets), or documents ranked at their best chunk
 * (`document_id` sets).
 */
import type { ScoredDoc } from '../trec/index.js';
import type { KeyKind } from '../judged-set/index.js';
import type { RetrievedChunk } from './types.js';

/** Best score per key, in retrieval order of first appearance, at most `limit`. */
export function rankedKeys(chunks: readonly RetrievedChunk[], keyKind: KeyKind, limit: number): ScoredDoc[] {
  const out: ScoredDoc[] = [];
  const seen = new Map<string, ScoredDoc>();
  for (const c of chunks) {
    const key = keyKind === 'document_id' ? c.documentId : c.semanticKey;
    const prev = seen.get(key);
    if (prev) {
      if (c.score > prev.score) prev.score = c.score;
      continue;
    }
    const doc = { docno: key, score: c.score };
    seen.set(key, doc);
    out.push(doc);
  }
  // Keep the `limit` best by score (a retriever returns best first, but do not rely on it).
  return out.length <= limit ? out : [...out].sort((a, b) => b.score - a.score).slice(0, limit);
}

/** How many chunks to ask for to fill `k` keys: 3 chunks per document, 1 per chunk. */
export function initialDepth(keyKind: KeyKind, k: number): number {
  return keyKind === 'document_id' ? k * 3 : k;
}

/** The single deeper retry when documents did not fill: four times deeper, capped. */
export function deeperDepth(depth: number, cap: number): number {
  return Math.min(depth * 4, cap);
}
