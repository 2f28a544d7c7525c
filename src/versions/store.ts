import { sql, type Kysely, type Selectable } from 'kysely';
import type { DB, EmbeddingVersionsTable, VersionEventKind } from '../db/index.js';
import { NotFoundError } from '../errors.js';
import { queryable, type Queryable } from '../db/index.js';
import type { EventDetailsMap } from './event-details.js';

export type VersionRow = Selectable<EmbeddingVersionsTable>;

type Exec = Kysely<DB>;

export async function findVersion(from: Queryable, key: string): Promise<VersionRow | undefined> {
  const db = queryable(from);
  return db.selectFrom('embedding_versions').selectAll().where('version_key', '=', key).executeTakeFirst();
}

/** What a version key may be (the schema's CHECK on embedding_versions.version_key). */
export const VERSION_KEY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
export const VERSION_KEY_RULE = '1-63 letters, digits, ".", "_" or "-", starting with a letter or digit';

/** A version key that names no version: lists the known ones; suggests registering only a key that could be registered. */
export class UnknownVersionError extends NotFoundError {
  readonly key: string;
  readonly known: string[];
  constructor(key: string, known: string[]) {
    const shown = showKey(key);
    const list = known.length
      ? ` (known: ${known.slice(0, 20).join(', ')}${known.length > 20 ? `, … ${known.length - 20} more` : ''})`
      : '';
    const hint = VERSION_KEY.test(key)
      ? `register it with embctl versions register ${key} --encoder <spec>`
      : `${shown} is not a valid version key (${VERSION_KEY_RULE})`;
    super(`no version ${shown}${list}: ${hint}`);
    this.key = key;
    this.known = known;
  }

  /** The message without a command to run (for HTTP clients). */
  override get brief(): string {
    const list = this.known.length
      ? ` (known: ${this.known.slice(0, 20).join(', ')}${this.known.length > 20 ? ', …' : ''})`
      : '';
    return `no version ${showKey(this.key)}${list}${VERSION_KEY.test(this.key) ? '' : `: not a valid version key (${VERSION_KEY_RULE})`}`;
  }
}

/** A key as printed: quoted, escaped, at most 80 characters. */
function showKey(key: string): string {
  return JSON.stringify(key.length > 80 ? `${key.slice(0, 80)}…` : key);
}

/** The version with this key, or an UnknownVersionError that lists the known keys. */
export async function requireVersion(from: Queryable, key: string): Promise<VersionRow> {
  const db = queryable(from);
  // A key the schema cannot hold names no version: do not send it (it may hold a NUL).
  const v = VERSION_KEY.test(key) ? await findVersion(db, key) : undefined;
  if (v) return v;
  const keys = (await db.selectFrom('embedding_versions').select('version_key').orderBy('id').execute()).map(
    (r) => r.version_key,
  );
  throw new UnknownVersionError(key, keys);
}

export async function listVersions(from: Queryable): Promise<VersionRow[]> {
  const db = queryable(from);
  return db.selectFrom('embedding_versions').selectAll().orderBy('id').execute();
}

export async function activeVersion(from: Queryable): Promise<VersionRow | undefined> {
  const db = queryable(from);
  return db.selectFrom('embedding_versions').selectAll().where('active', '=', true).executeTakeFirst();
}

/** One audit event; its `details` have the shape of its kind (event-details.ts). */
export type EventInput = {
  [K in VersionEventKind]: {
    versionId: number | null;
    versionKey: string;
    event: K;
    actor: string;
    reason?: string | null;
    forced?: boolean;
    details: EventDetailsMap[K];
  };
}[VersionEventKind];

/** Append to the audit trail (in the caller's transaction). */
export async function recordEvent(db: Exec, e: EventInput): Promise<void> {
  await db
    .insertInto('version_events')
    .values({
      embedding_version_id: e.versionId,
      version_key: e.versionKey,
      event: e.event,
      actor: e.actor,
      reason: e.reason ?? null,
      forced: e.forced ?? false,
      details: JSON.stringify(e.details),
    })
    .execute();
}

/** Live chunks, and how many of them have a vector in each version's partition. */
export async function coverage(db: Exec): Promise<{ live: number; byVersion: Map<number, number> }> {
  const live = await db
    .selectFrom('document_chunks')
    .select(sql<number>`count(*)`.as('n'))
    .where('retired_at', 'is', null)
    .executeTakeFirstOrThrow();
  const rows = await sql<{ v: number; n: number }>`
    select e.embedding_version_id as v, count(*) as n
    from chunk_embeddings e join document_chunks c on c.id = e.chunk_id
    where c.retired_at is null
    group by e.embedding_version_id`.execute(db);
  return { live: Number(live.n), byVersion: new Map(rows.rows.map((r) => [Number(r.v), Number(r.n)])) };
}
