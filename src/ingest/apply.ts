import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/index.js';
import { canonicalJson, type PreparedChunk, type PreparedDocument } from './prepare.js';
import type { ChunkCounts } from './types.js';
import { failpoint } from '../util/index.js';

/** Rows per INSERT ... SELECT FROM unnest(...) statement. */
const INSERT_SLICE = 2000;

export interface AppliedBatch extends ChunkCounts {
  documentsChanged: number;
}

interface ExistingRow {
  id: number;
  semantic_key: string;
  document_id: string;
  retired: boolean;
  metadata: unknown;
}

/**
 * Bring the documents of one batch to their new chunks, inside the caller's
 * transaction: insert new chunks, retire vanished ones, un-retire chunks that
 * came back, update metadata in place. With `dryRun`, only compare.
 */
export async function applyBatch(
  trx: Kysely<DB>,
  docs: readonly PreparedDocument[],
  dryRun: boolean,
): Promise<AppliedBatch> {
  const result: AppliedBatch = {
    new: 0,
    unchanged: 0,
    retired: 0,
    metadataUpdated: 0,
    unretired: 0,
    documentsChanged: 0,
  };
  const existing = await existingChunks(
    trx,
    docs.map((d) => d.id),
  );
  const toInsert: { doc: PreparedDocument; chunk: PreparedChunk }[] = [];
  const toRetire: number[] = [];
  const toRevive: { id: number; metadata: string }[] = [];

  for (const doc of docs) {
    const rows = existing.get(doc.id) ?? new Map<string, ExistingRow>();
    let changed = false;
    const wanted = new Set<string>();
    for (const chunk of doc.chunks) {
      wanted.add(chunk.key);
      const row = rows.get(chunk.key);
      if (!row) {
        toInsert.push({ doc, chunk });
        result.new++;
        changed = true;
      } else if (row.retired) {
        toRevive.push({ id: row.id, metadata: doc.metadata });
        result.unretired++;
        changed = true;
      } else if (canonicalJson(row.metadata) !== doc.metadata) {
        toRevive.push({ id: row.id, metadata: doc.metadata });
        result.metadataUpdated++;
      } else {
        result.unchanged++;
      }
    }
    for (const row of rows.values()) {
      if (!row.retired && !wanted.has(row.semantic_key)) {
        toRetire.push(row.id);
        result.retired++;
        changed = true;
      }
    }
    if (changed) result.documentsChanged++;
  }

  if (dryRun) return result;
  for (let i = 0; i < toInsert.length; i += INSERT_SLICE) await insertChunks(trx, toInsert.slice(i, i + INSERT_SLICE));
  if (toRetire.length) {
    await sql`update document_chunks set retired_at = now(), updated_at = now()
      where id = any(${toRetire}::bigint[])`.execute(trx);
  }
  if (toRevive.length) {
    await sql`update document_chunks c set retired_at = null, metadata = v.m::jsonb, updated_at = now()
      from unnest(${toRevive.map((r) => r.id)}::bigint[], ${toRevive.map((r) => r.metadata)}::text[]) as v(id, m)
      where c.id = v.id`.execute(trx);
  }
  failpoint('ingest.batch'); // written, not yet committed
  return result;
}

/** The current chunks of these documents, live or retired, by document then key. */
async function existingChunks(trx: Kysely<DB>, ids: string[]): Promise<Map<string, Map<string, ExistingRow>>> {
  const { rows } = await sql<ExistingRow>`
    select id, semantic_key, document_id, retired_at is not null as retired, metadata
    from document_chunks where document_id = any(${ids}::text[])`.execute(trx);
  const out = new Map<string, Map<string, ExistingRow>>();
  for (const r of rows) {
    let m = out.get(r.document_id);
    if (!m) out.set(r.document_id, (m = new Map()));
    m.set(r.semantic_key, r);
  }
  return out;
}

async function insertChunks(trx: Kysely<DB>, rows: { doc: PreparedDocument; chunk: PreparedChunk }[]): Promise<void> {
  // Semantic keys include the document id, and ingests write one batch at a time (lockIngest) after reading the
  // keys there: a conflict cannot happen. On Citus, semantic_key is not UNIQUE (migrate/citus.ts): this lock keeps it so.
  await sql`insert into document_chunks (semantic_key, document_id, chunk_no, content, content_sha256, metadata)
    select k, d, n, c, decode(h, 'hex'), m::jsonb
    from unnest(${rows.map((r) => r.chunk.key)}::text[], ${rows.map((r) => r.doc.id)}::text[],
                ${rows.map((r) => r.chunk.chunkNo)}::int[], ${rows.map((r) => r.chunk.content)}::text[],
                ${rows.map((r) => r.chunk.sha256.toString('hex'))}::text[], ${rows.map((r) => r.doc.metadata)}::text[])
      as t(k, d, n, c, h, m)
    on conflict do nothing`.execute(trx);
}
