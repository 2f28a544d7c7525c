/** The SQL of the encoder canary: its two tables (migration 0005) and its events. One function per operation. */
import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/index.js';
import type { CanaryText } from './shipped-set.js';

export interface StoredCanary {
  versionId: number;
  setName: string;
  setSha256: string;
  corpusSample: number;
  dimensions: number;
  reportedModel: string;
  actor: string;
  createdAt: Date;
  texts: (CanaryText & { position: number; vector: Float32Array })[];
}

export interface CanaryToStore {
  setName: string;
  setSha256: string;
  corpusSample: number;
  dimensions: number;
  reportedModel: string;
  actor: string;
  texts: (CanaryText & { vector: Float32Array })[];
}

/** Store a version's canary (in the caller's transaction), replacing the one it had. */
export async function insertCanary(trx: Kysely<DB>, versionId: number, c: CanaryToStore): Promise<void> {
  await trx.deleteFrom('encoder_canaries').where('embedding_version_id', '=', versionId).execute();
  await trx
    .insertInto('encoder_canaries')
    .values({
      embedding_version_id: versionId,
      set_name: c.setName,
      set_sha256: c.setSha256,
      texts: c.texts.length,
      corpus_sample: c.corpusSample,
      dimensions: c.dimensions,
      reported_model: c.reportedModel,
      actor: c.actor,
    })
    .execute();
  // A few hundred rows at most: small multi-row inserts, the vectors as float4 array literals.
  for (let i = 0; i < c.texts.length; i += 100) {
    const rows = c.texts.slice(i, i + 100).map((t, j) => ({
      embedding_version_id: versionId,
      position: i + j,
      source: t.source,
      content: t.content,
      content_sha256: t.sha256,
      embedding: sql<number[]>`${realArrayLiteral(t.vector)}::real[]`,
    }));
    await trx.insertInto('encoder_canary_texts').values(rows).execute();
  }
}

/** A version's canary with its texts in order, or undefined when none was recorded. */
export async function readCanary(db: Kysely<DB>, versionId: number): Promise<StoredCanary | undefined> {
  const head = await db
    .selectFrom('encoder_canaries')
    .selectAll()
    .where('embedding_version_id', '=', versionId)
    .executeTakeFirst();
  if (!head) return undefined;
  const rows = await db
    .selectFrom('encoder_canary_texts')
    .select(['position', 'source', 'content', 'content_sha256', sql<string>`embedding::text`.as('embedding')])
    .where('embedding_version_id', '=', versionId)
    .orderBy('position')
    .execute();
  return {
    versionId,
    setName: head.set_name,
    setSha256: head.set_sha256,
    corpusSample: head.corpus_sample,
    dimensions: head.dimensions,
    reportedModel: head.reported_model,
    actor: head.actor,
    createdAt: head.created_at,
    texts: rows.map((r) => ({
      position: r.position,
      source: r.source,
      content: r.content,
      sha256: r.content_sha256,
      vector: parseRealArray(r.embedding),
    })),
  };
}

export type CanaryEventKind = 'canary_recorded' | 'canary_checked' | 'canary_failed';

/** The version's latest canary event (recorded, checked or failed), if any. */
export async function lastCanaryEvent(
  db: Kysely<DB>,
  versionId: number,
): Promise<{ id: number; event: CanaryEventKind; details: unknown; at: Date } | undefined> {
  const row = await db
    .selectFrom('version_events')
    .select(['id', 'event', 'details', 'created_at'])
    .where('embedding_version_id', '=', versionId)
    .where('event', 'in', ['canary_recorded', 'canary_checked', 'canary_failed'])
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!row) return undefined;
  return { id: Number(row.id), event: row.event as CanaryEventKind, details: row.details, at: row.created_at };
}

/**
 * `n` distinct live texts of the corpus, the first by content sha256: a
 * spread-out sample that does not depend on ingestion order, and the same
 * on every backend.
 */
export async function corpusSample(db: Kysely<DB>, n: number): Promise<string[]> {
  if (n <= 0) return [];
  const { rows } = await sql<{ content: string }>`
    select distinct on (content_sha256) content
    from document_chunks
    where retired_at is null and content <> ''
    order by content_sha256, id
    limit ${n}`.execute(db);
  return rows.map((r) => r.content);
}

/** `{1.5,-0.25,...}`: each float32 as the double it is, which float4 input reads back exactly. */
function realArrayLiteral(v: Float32Array): string {
  let s = '{';
  for (let i = 0; i < v.length; i++) s += (i ? ',' : '') + String(v[i]!);
  return s + '}';
}

function parseRealArray(text: string): Float32Array {
  const inner = text.trim().replace(/^\{|\}$/g, '');
  const parts = inner === '' ? [] : inner.split(',');
  const out = new Float32Array(parts.length);
  for (let i = 0; i < parts.length; i++) out[i] = Number(parts[i]);
  return out;
}
