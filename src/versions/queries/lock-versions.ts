import type { Kysely } from 'kysely';
import type { DB } from '../../db/index.js';
import type { VersionRow } from '../store.js';

/** The version with this key, locked FOR UPDATE for the rest of the caller's transaction (throws if none). */
export async function lockVersion(trx: Kysely<DB>, key: string): Promise<VersionRow> {
  return trx
    .selectFrom('embedding_versions')
    .selectAll()
    .where('version_key', '=', key)
    .forUpdate()
    .executeTakeFirstOrThrow();
}

/** The version with this key and the active one, locked FOR UPDATE for the rest of the caller's transaction. */
export async function lockVersionAndActive(
  trx: Kysely<DB>,
  key: string,
): Promise<{ target: VersionRow | undefined; active: VersionRow | undefined }> {
  const rows = await trx
    .selectFrom('embedding_versions')
    .selectAll()
    .where((eb) => eb.or([eb('version_key', '=', key), eb('active', '=', true)]))
    .orderBy('id')
    .forUpdate()
    .execute();
  return { target: rows.find((r) => r.version_key === key), active: rows.find((r) => r.active) };
}
