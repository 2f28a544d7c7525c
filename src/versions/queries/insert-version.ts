import type { Insertable, Kysely } from 'kysely';
import type { DB, EmbeddingVersionsTable } from '../../db/index.js';
import type { VersionRow } from '../store.js';

/** Insert a version row (in the caller's transaction, which makes its partition) and return it. */
export async function insertVersion(db: Kysely<DB>, values: Insertable<EmbeddingVersionsTable>): Promise<VersionRow> {
  return db.insertInto('embedding_versions').values(values).returningAll().executeTakeFirstOrThrow();
}
