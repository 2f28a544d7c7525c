/**
 * The text a judge reads for a key: a chunk's content (semantic keys), or
 * a document's live chunks in order (document ids), cut at `maxChars` — the
 * judge truncates again to its own token budget.
 */
import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/index.js';
import type { KeyKind } from '../judged-set/index.js';
import { cutText } from '../util/index.js';

export const DEFAULT_PASSAGE_CHARS = 8000;

export async function passageTexts(
  db: Kysely<DB>,
  keyKind: KeyKind,
  keys: readonly string[],
  maxChars = DEFAULT_PASSAGE_CHARS,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const distinct = [...new Set(keys)];
  if (distinct.length === 0) return out;
  const column = keyKind === 'semantic_key' ? 'semantic_key' : 'document_id';
  const rows = await db
    .selectFrom('document_chunks')
    .select([`${column} as k`, 'content'])
    .where(column, '=', sql<string>`any(${distinct}::text[])`)
    .where('retired_at', 'is', null)
    .orderBy(column)
    .orderBy('chunk_no')
    .execute();
  for (const r of rows) {
    const prev = out.get(r.k);
    if (prev !== undefined && prev.length >= maxChars) continue;
    const joined = prev === undefined ? r.content : `${prev}\n\n${r.content}`;
    out.set(r.k, cutText(joined, maxChars));
  }
  return out;
}
