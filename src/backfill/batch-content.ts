import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/index.js';
import { partitionTable } from '../partitions/index.js';
import { liveVersionIds } from '../versions/index.js';

/** The work one batch carries: each distinct text once, with the chunks that hold it. */
export interface BatchContent {
  /** Distinct texts (by content_sha256) that still need a vector, with their chunks. */
  texts: { sha: string; content: string; chunkIds: number[] }[];
  /** Vectors found for the same encoder identity: sha → vector (no encoder call). */
  reused: Map<string, Float32Array>;
}

/**
 * Load a batch: the live chunks of its texts that have no vector yet in this
 * version, and any vector an identical encoder already made for those texts
 * (in this version or another with the same identity).
 */
export async function loadBatch(
  db: Kysely<DB>,
  versionId: number,
  identity: string,
  batchId: number,
): Promise<BatchContent> {
  const table = sql.raw(partitionTable(versionId));
  const rows = await sql<{ id: number; content: string; sha: Uint8Array }>`
    select c.id, c.content, c.content_sha256 as sha
    from backfill_items i
    join document_chunks c on c.content_sha256 = i.content_sha256
    where i.batch_id = ${batchId} and i.embedding_version_id = ${versionId}
      and c.retired_at is null
      and not exists (select 1 from ${table} e where e.chunk_id = c.id)
    order by c.id`.execute(db);
  const bySha = new Map<string, { sha: string; content: string; chunkIds: number[]; raw: Uint8Array }>();
  for (const r of rows.rows) {
    const key = Buffer.from(r.sha).toString('hex');
    const entry = bySha.get(key);
    if (entry) entry.chunkIds.push(Number(r.id));
    else bySha.set(key, { sha: key, content: r.content, chunkIds: [Number(r.id)], raw: r.sha });
  }
  const reused = new Map<string, Float32Array>();
  if (bySha.size > 0) {
    const shas = [...bySha.values()].map((e) => Buffer.from(e.raw));
    const sameEncoder = await liveVersionIds(db, { encoderIdentity: identity });
    const found = await sql<{ sha: Uint8Array; embedding: Float32Array }>`
      select distinct on (c.content_sha256) c.content_sha256 as sha, e.embedding
      from document_chunks c
      join chunk_embeddings e on e.chunk_id = c.id
      where c.content_sha256 = any(${shas}::bytea[])
        and e.embedding_version_id = any(${sameEncoder}::int[])
      order by c.content_sha256, e.embedding_version_id`.execute(db);
    for (const f of found.rows) reused.set(Buffer.from(f.sha).toString('hex'), f.embedding);
  }
  return { texts: [...bySha.values()].map(({ sha, content, chunkIds }) => ({ sha, content, chunkIds })), reused };
}
