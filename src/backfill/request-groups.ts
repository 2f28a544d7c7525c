import type { Encoder } from '../encoders/index.js';

/** Split texts into encoder requests within the provider's item and token limits. */
export function requestGroups<T>(
  items: readonly T[],
  textOf: (t: T) => string,
  encoder: Encoder,
  maxItems = encoder.maxBatchItems,
): { items: T[]; tokens: number }[] {
  const groups: { items: T[]; tokens: number }[] = [];
  let cur: T[] = [];
  let tokens = 0;
  const itemLimit = Math.max(1, Math.min(maxItems, encoder.maxBatchItems));
  for (const item of items) {
    const t = encoder.countTokens(textOf(item));
    if (cur.length > 0 && (cur.length >= itemLimit || tokens + t > encoder.maxBatchTokens)) {
      groups.push({ items: cur, tokens });
      cur = [];
      tokens = 0;
    }
    cur.push(item);
    tokens += t;
  }
  if (cur.length > 0) groups.push({ items: cur, tokens });
  return groups;
}
