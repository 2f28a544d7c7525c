/** Reciprocal rank fusion's constant (Cormack, Clarke & Büttcher 2009). */
export const RRF_K = 60;

export interface Fused<T> {
  item: T;
  score: number;
  /** 1-based rank in each input list, null when absent from it. */
  ranks: (number | null)[];
}

/**
 * Reciprocal rank fusion: score(d) = Σ_lists 1 / (k + rank_list(d)).
 * Ties are broken by the best single rank, then by first appearance.
 */
export function reciprocalRankFusion<T>(
  lists: readonly (readonly T[])[],
  keyOf: (item: T) => string | number,
  k = RRF_K,
): Fused<T>[] {
  const byKey = new Map<string | number, Fused<T> & { order: number }>();
  let order = 0;
  lists.forEach((list, li) => {
    list.forEach((item, i) => {
      const key = keyOf(item);
      let f = byKey.get(key);
      if (!f) {
        f = { item, score: 0, ranks: lists.map(() => null), order: order++ };
        byKey.set(key, f);
      }
      if (f.ranks[li] !== null) return; // duplicates within one list count once
      f.ranks[li] = i + 1;
      f.score += 1 / (k + i + 1);
    });
  });
  const best = (f: Fused<T>) => Math.min(...f.ranks.map((r) => r ?? Infinity));
  return [...byKey.values()]
    .sort((a, b) => b.score - a.score || best(a) - best(b) || a.order - b.order)
    .map(({ item, score, ranks }) => ({ item, score, ranks }));
}
