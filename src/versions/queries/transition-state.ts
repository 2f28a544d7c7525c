import { sql, type Kysely } from 'kysely';
import type { DB, VersionState } from '../../db/index.js';

/** Move a version from state `from` to `to`; false when it was not in `from` (someone else moved it). */
export async function transitionState(
  db: Kysely<DB>,
  id: number,
  from: VersionState,
  to: VersionState,
): Promise<boolean> {
  const r = await db
    .updateTable('embedding_versions')
    .set({ state: to, updated_at: sql`now()` as never })
    .where('id', '=', id)
    .where('state', '=', from)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}
