import { sql, type Kysely, type Selectable } from 'kysely';
import type { DB, EmbeddingVersionsTable, VersionEventKind } from '../db/schema.js';
import { InputError } from '../errors.js';

export type VersionRow = Selectable<EmbeddingVersionsTable>;

type Exec = Kysely<DB>;

export async function findVersion(db: Exec, key: string): Promise<VersionRow | undefined> {
  return db.selectFrom('embedding_versions').selectAll().where('version_key', '=', key).executeTakeFirst();
}

/** The version with this key, or an InputError that lists the known keys. */
export async function requireVersion(db: Exec, key: string): Promise<VersionRow> {
  const v = await findVersion(db, key);
  if (v) return v;
  const keys = (await db.selectFrom('embedding_versions').select('version_key').orderBy('id').execute()).map((r) => r.version_key);
  throw new InputError(
    `no version "${key}"${keys.length ? ` (known: ${keys.join(', ')})` : ''}: register it with embctl versions register ${key} --encoder <spec>`,
  );
}

export async function listVersions(db: Exec): Promise<VersionRow[]> {
  return db.selectFrom('embedding_versions').selectAll().orderBy('id').execute();
}

export async function activeVersion(db: Exec): Promise<VersionRow | undefined> {
  return db.selectFrom('embedding_versions').selectAll().where('active', '=', true).executeTakeFirst();
}

export interface EventInput {
  versionId: number | null;
  versionKey: string;
  event: VersionEventKind;
  actor: string;
  reason?: string | null;
  forced?: boolean;
  details?: Record<string, unknown>;
}

/** Append to the audit trail (in the caller's transaction). */
export async function recordEvent(db: Exec, e: EventInput): Promise<void> {
  await db.insertInto('version_events').values({
    embedding_version_id: e.versionId,
    version_key: e.versionKey,
    event: e.event,
    actor: e.actor,
    reason: e.reason ?? null,
    forced: e.forced ?? false,
    details: JSON.stringify(e.details ?? {}),
  }).execute();
}

/** Live chunks, and how many of them have a vector in each version's partition. */
export async function coverage(db: Exec): Promise<{ live: number; byVersion: Map<number, number> }> {
  const live = await db.selectFrom('document_chunks').select(sql<number>`count(*)`.as('n'))
    .where('retired_at', 'is', null).executeTakeFirstOrThrow();
  const rows = await sql<{ v: number; n: number }>`
    select e.embedding_version_id as v, count(*) as n
    from chunk_embeddings e join document_chunks c on c.id = e.chunk_id
    where c.retired_at is null
    group by e.embedding_version_id`.execute(db);
  return { live: Number(live.n), byVersion: new Map(rows.rows.map((r) => [Number(r.v), Number(r.n)])) };
}
