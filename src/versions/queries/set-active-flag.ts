import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/index.js';

/**
 * Make version `id` the active one in the caller's transaction: clear the
 * old flag, then set the new one (two statements, so the partial unique
 * index `embedding_versions_one_active` never sees two active rows).
 */
export async function setActiveFlag(trx: Kysely<DB>, id: number): Promise<void> {
  await trx
    .updateTable('embedding_versions')
    .set({ active: false, updated_at: sql`now()` as never })
    .where('active', '=', true)
    .where('id', '<>', id)
    .execute();
  await trx
    .updateTable('embedding_versions')
    .set({ active: true, updated_at: sql`now()` as never })
    .where('id', '=', id)
    .execute();
}
