import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/index.js';
import { copyBinaryWriter, encodeRows, partitionTable } from '../../partitions/index.js';
import { liveVersionIds } from '../../versions/index.js';

/**
 * Write, without any encoder call, every missing chunk whose text an
 * identical encoder (same identity) has already embedded: the online
 * backfill's reuse by content sha256, for the texts the Batch API skips.
 * Page by page, one transaction each. Returns the chunks written.
 */
export async function writeReusable(
  db: Kysely<DB>,
  v: { id: number; version_key: string; dimensions: number; encoder_identity: string },
  pageSize = 2000,
): Promise<{ chunks: number; texts: number }> {
  const table = sql.raw(partitionTable(v.id));
  // This version too: a chunk ingested after its text was written here.
  const sameEncoder = await liveVersionIds(db, { encoderIdentity: v.encoder_identity });
  let chunks = 0;
  const texts = new Set<string>();
  for (;;) {
    const page = await sql<{ id: number; sha: Uint8Array; embedding: Float32Array }>`
      select c.id, c.content_sha256 as sha, r.embedding
      from document_chunks c
      join lateral (
        select e.embedding from document_chunks c2 join chunk_embeddings e on e.chunk_id = c2.id
        where c2.content_sha256 = c.content_sha256 and e.embedding_version_id = any(${sameEncoder}::int[])
        limit 1) r on true
      where c.retired_at is null and not exists (select 1 from ${table} e where e.chunk_id = c.id)
      order by c.id
      limit ${pageSize}`.execute(db);
    if (page.rows.length === 0) break;
    const encoded = await encodeRows(
      v,
      page.rows.map((r) => ({ chunkId: Number(r.id), vector: r.embedding })),
    );
    await db.transaction().execute((trx) => copyBinaryWriter.writeEncoded(trx, v, encoded));
    chunks += page.rows.length;
    for (const r of page.rows) texts.add(Buffer.from(r.sha).toString('hex'));
    if (page.rows.length < pageSize) break;
  }
  return { chunks, texts: texts.size };
}
