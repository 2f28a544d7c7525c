import type { Kysely } from 'kysely';
import type { DB } from '../../db/index.js';

/** Versions' keys by id: every version (retired ones too), or only these ids, or only those not retired. */
export async function versionKeysById(
  db: Kysely<DB>,
  opts: { ids?: number[]; liveOnly?: boolean } = {},
): Promise<Map<number, string>> {
  if (opts.ids && opts.ids.length === 0) return new Map();
  let q = db.selectFrom('embedding_versions').select(['id', 'version_key']);
  if (opts.ids) q = q.where('id', 'in', opts.ids);
  if (opts.liveOnly) q = q.where('state', '<>', 'retired');
  return new Map((await q.execute()).map((r) => [r.id, r.version_key]));
}

/** The keys of these versions, ordered by key (as the database orders text). */
export async function versionKeysOf(db: Kysely<DB>, ids: number[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('embedding_versions')
    .select('version_key')
    .where('id', 'in', ids)
    .orderBy('version_key')
    .execute();
  return rows.map((r) => r.version_key);
}

/** The id of the version with this key, if there is one. */
export async function findVersionId(db: Kysely<DB>, key: string): Promise<number | undefined> {
  return (await db.selectFrom('embedding_versions').select('id').where('version_key', '=', key).executeTakeFirst())?.id;
}
