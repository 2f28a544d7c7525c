import { sql } from 'kysely';
import type { Backend, Db } from '../db/index.js';

/**
 * The most live chunks the embedded database (PGlite) was measured to take
 * end to end — ingest, backfill with `hash:mixed-384`, HNSW index build,
 * searches — in under 10 minutes on the 2-core development machine:
 * `npm run bench:pglite-ceiling`, bench/results/2026-11-30-pglite-ceiling.txt
 * (50,000 in 540 s at load 5–6, 428 s of it the HNSW build; 100,000 was
 * still building its index at 600 s).
 * Past it, embctl says once per command that a server is the better home.
 */
export const EMBEDDED_CHUNK_CEILING = 50_000;

/** The hint, word for word (README "Scaling out"). */
export const EMBEDDED_CEILING_HINT = 'this corpus is larger than the embedded database is meant for; set DATABASE_URL';

/**
 * The hint when `liveChunks` on this backend is past the ceiling, else null.
 * Only the embedded database has one: a server never gets the hint.
 */
export function embeddedCeilingWarning(
  backend: Backend,
  liveChunks: number,
  ceiling: number = EMBEDDED_CHUNK_CEILING,
): string | null {
  if (backend !== 'pglite' || liveChunks <= ceiling) return null;
  return `${EMBEDDED_CEILING_HINT} (${liveChunks.toLocaleString('en-US')} live chunks; its measured ceiling is ${ceiling.toLocaleString('en-US')})`;
}

/** Count the live chunks (embedded database only: a server is never asked) and give the hint if past the ceiling. */
export async function checkEmbeddedCeiling(db: Db, ceiling: number = EMBEDDED_CHUNK_CEILING): Promise<string | null> {
  if (db.backend !== 'pglite') return null;
  const r = await sql<{ n: number }>`
    select count(*) as n from document_chunks where retired_at is null`.execute(db.kysely);
  return embeddedCeilingWarning(db.backend, Number(r.rows[0]?.n ?? 0), ceiling);
}
